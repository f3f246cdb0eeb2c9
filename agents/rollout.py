"""Replay generated answers through the environment and place its rewards on tokens.

The LM policy writes a whole answer in one batched generation call; the environment's MDP is sentence
by sentence. :func:`replay` bridges the two without changing the MDP: it resets the environment on the
answer's question and steps the answer's sentences one by one (the observation each time is the prompt
plus the policy's own text so far, exactly what the policy conditioned on), then ends the answer with the
empty action. It collects the reward vectors and scored segments, maps every segment's last character to
the last response token covering it (through :attr:`Generation.token_end_chars`, the tokenizer's offsets),
and marks the tokens the environment never saw (those after a truncation at ``max_sentences``).

:func:`token_rewards` then gives the paper's per-token reward: on each segment's last token, the sum over
reward models of weight x value; episode-level rewards on the final token.

Example:
    >>> import gymnasium as gym, fg_env  # doctest: +SKIP
    >>> env = gym.make("FineGrainedQA-v0")  # doctest: +SKIP
    >>> [generation] = policy.generate([env.unwrapped.examples[0].prompt])  # doctest: +SKIP
    >>> record = replay(env, generation, index=0)  # doctest: +SKIP
    >>> token_rewards(record).shape == (len(generation.response_ids),)  # doctest: +SKIP
    True
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import gymnasium as gym
import numpy as np

from agents.policy import Generation
from fg_env.envs.qa import ScoredSegment
from fg_env.text import split_sentences

__all__ = ["EpisodeRecord", "SegmentRecord", "replay", "replay_many", "run_episode", "token_rewards", "token_index_of_char"]


@dataclass(frozen=True)
class SegmentRecord(ScoredSegment):
    """A scored segment of an episode (the environment's :class:`ScoredSegment`) and the response token
    that receives its reward.

    ``start``/``end`` are offsets in the environment's response (``EpisodeRecord.response``), as in
    ``info["segments"]``; ``step`` is the environment step that scored it; ``weight`` is the weight a
    scalarising wrapper attached to it (None if none).
    """

    step: int
    token_index: int
    weight: float | None = None


@dataclass(frozen=True)
class EpisodeRecord:
    """What one replayed answer got from the environment, in token coordinates.

    ``response_mask[i]`` is True for the response tokens the environment saw: all of them, unless the
    episode was truncated at ``max_sentences``, in which case the tokens after the last sentence the
    environment took are False and must not be trained on. ``final_token_index`` is the last used token:
    it receives episode-level rewards (the end-of-sequence token when the answer ended with one).
    """

    example_id: str
    generation: Generation
    response: str
    reward_names: tuple[str, ...]
    default_weights: tuple[float, ...]
    step_rewards: np.ndarray
    step_reward_masks: np.ndarray
    segments: tuple[SegmentRecord, ...]
    terminated: bool
    truncated: bool
    num_used_tokens: int
    final_token_index: int

    @property
    def response_mask(self) -> np.ndarray:
        mask = np.zeros(len(self.generation.response_ids), dtype=bool)
        mask[: self.num_used_tokens] = True
        return mask

    @property
    def num_steps(self) -> int:
        return int(self.step_rewards.shape[0])

    def total_reward(self) -> np.ndarray:
        """The unweighted return of each reward model, shape ``(K,)``."""
        return self.step_rewards.sum(axis=0)


def token_index_of_char(token_end_chars: Sequence[int], char: int) -> int:
    """Index of the LAST token whose character range ``[end[i-1], end[i])`` contains ``char``.

    Several tokens share one range when they hold the bytes of one multi-byte character; the last of them
    is the one that completes it, so it is the one that receives the reward.

    Example:
        >>> token_index_of_char([3, 4, 4, 9], 3)  # tokens 1 and 2 both end at 4: char 3 is completed by 2
        2
    """
    if not token_end_chars or not 0 <= char < token_end_chars[-1]:
        raise ValueError(f"character {char} is outside the response tokens' text [0, {token_end_chars[-1] if token_end_chars else 0})")
    first = bisect.bisect_right(token_end_chars, char)
    return bisect.bisect_right(token_end_chars, token_end_chars[first]) - 1


@dataclass
class _Piece:
    """An action as appended by the env: env chars [env_start, env_start+length) are generation chars [gen_start, ...)."""

    env_start: int
    gen_start: int
    length: int


def _env_to_generation(pieces: list[_Piece], char: int) -> int:
    """The generation character that env response character ``char`` came from.

    A separator the env inserted between two actions belongs to no generated character; it maps to the
    character before it (segments never end on whitespace, so no reward lands there anyway).
    """
    for piece in reversed(pieces):
        if char >= piece.env_start:
            return piece.gen_start + min(char - piece.env_start, piece.length - 1)
    raise ValueError(f"response character {char} precedes every action")


def _reward_names(env: gym.Env, reward: Any) -> tuple[tuple[str, ...], tuple[float, ...]]:
    if np.ndim(reward) == 0:
        return ("reward",), (1.0,)
    names = tuple(env.get_wrapper_attr("reward_names"))
    try:
        weights = tuple(float(w) for w in env.get_wrapper_attr("default_weights"))
    except AttributeError:
        weights = (1.0,) * len(names)
    return names, weights


def replay(
    env: gym.Env,
    generation: Generation,
    *,
    example_id: str | None = None,
    index: int | None = None,
    seed: int | None = None,
) -> EpisodeRecord:
    """Step ``generation``'s answer through ``env`` sentence by sentence, on question ``example_id``/``index``.

    Actions are ``text[previous_end:sentence.end]`` for the sentences of ``split_sentences(text)``, so each
    keeps the whitespace before it and the env's response is the generated text itself; if the env inserts
    a separator anyway (an action starting right after the previous one's last character), offsets are
    mapped back. The answer ends with the empty action unless the env truncates first.
    """
    if (example_id is None) == (index is None):
        raise ValueError("replay() needs exactly one of example_id= or index= to pick the question")
    if not generation.response_ids:
        raise ValueError("the generation has no response tokens: there is no token to put a reward on")
    options = {"example_id": example_id} if example_id is not None else {"index": index}
    _, reset_info = env.reset(seed=seed, options=options)
    question_id = str(reset_info.get("example_id", example_id if example_id is not None else index))
    if reset_info.get("prompt", generation.prompt) != generation.prompt:
        raise ValueError(
            f"the generation was made for another prompt than question {question_id!r}: "
            f"{generation.prompt[:80]!r}... versus {reset_info['prompt'][:80]!r}..."
        )
    text = generation.response_text
    actions: list[tuple[int, int]] = []  # generation char ranges of the sentence actions
    previous = 0
    for sentence in split_sentences(text):
        actions.append((previous, sentence.end))
        previous = sentence.end
    actions.append((previous, previous))  # the empty action ends the answer

    response = ""
    pieces: list[_Piece] = []
    rewards, masks, raw_segments = [], [], []
    terminated = truncated = False
    consumed_end = 0  # generation chars the env has taken
    for step, (start, end) in enumerate(actions):
        action = text[start:end] if end > start else ""
        obs, reward, terminated, truncated, info = env.step(action)
        if step == 0:
            names, default_weights = _reward_names(env, reward)
        new_response = obs["response"]
        if action:
            separator = len(new_response) - len(response) - len(action)
            if separator not in (0, 1) or not new_response.startswith(response) or not new_response.endswith(action):
                raise RuntimeError(
                    f"the environment did not append action {action!r} to the response (verbatim, with at most one "
                    f"separator): got {new_response[len(response):]!r}"
                )
            pieces.append(_Piece(len(response) + separator, start, len(action)))
            consumed_end = end
        response = new_response
        rewards.append(np.atleast_1d(np.asarray(reward, dtype=np.float32)))
        masks.append(np.atleast_1d(np.asarray(info.get("reward_mask", np.ones(len(rewards[-1]), dtype=bool)), dtype=bool)))
        raw_segments.extend((step, s) for s in info.get("segments", ()))
        if terminated or truncated:
            break
    if not (terminated or truncated):
        raise RuntimeError("the environment did not end the episode on the empty action")

    ids = generation.response_ids
    # The eos token ends where the text ends but holds no character: never the owner of a segment's last
    # character (it gets episode-level rewards through final_token_index instead).
    ends = generation.token_end_chars[: len(ids) - 1] if generation.finished else generation.token_end_chars
    if truncated and consumed_end > 0:
        # Tokens after the last sentence the env took were never seen by it: mask them out of training.
        num_used = token_index_of_char(ends, consumed_end - 1) + 1
    else:
        num_used = len(ids)
    final_token = num_used - 1
    segments = []
    for step, s in raw_segments:
        if s["granularity"] == "episode" or s["end"] <= s["start"]:
            token = final_token
        else:
            token = min(token_index_of_char(ends, _env_to_generation(pieces, s["end"] - 1)), final_token)
        segments.append(
            SegmentRecord(
                component=s["component"], granularity=s["granularity"], start=s["start"], end=s["end"],
                text=s.get("text", response[s["start"] : s["end"]]), value=float(s["value"]), label=s.get("label"),
                step=step, token_index=token, weight=None if s.get("weight") is None else float(s["weight"]),
            )
        )
    return EpisodeRecord(
        example_id=question_id,
        generation=generation,
        response=response,
        reward_names=names,
        default_weights=default_weights,
        step_rewards=np.stack(rewards).astype(np.float32),
        step_reward_masks=np.stack(masks),
        segments=tuple(segments),
        terminated=bool(terminated),
        truncated=bool(truncated),
        num_used_tokens=num_used,
        final_token_index=final_token,
    )


def replay_many(
    env: gym.Env,
    generations: Sequence[Generation],
    example_ids: Sequence[str],
    seed: int | None = None,
) -> list[EpisodeRecord]:
    """:func:`replay` each generation on its question, reusing one environment."""
    if len(generations) != len(example_ids):
        raise ValueError(f"{len(generations)} generations but {len(example_ids)} example ids")
    return [replay(env, g, example_id=i, seed=seed) for g, i in zip(generations, example_ids)]


def _weight_lookup(record: EpisodeRecord, weights: Mapping[str, float] | Sequence[float] | np.ndarray | None):
    if weights is None:
        defaults = dict(zip(record.reward_names, record.default_weights))
        # A scalarising wrapper already attached each segment's weight; otherwise the env's defaults.
        return lambda s: s.weight if s.weight is not None else defaults.get(s.component, 1.0)
    if isinstance(weights, Mapping):
        table = {str(k): float(v) for k, v in weights.items()}
    else:
        values = np.asarray(weights, dtype=np.float64).reshape(-1)
        if values.shape[0] != len(record.reward_names):
            raise ValueError(
                f"weights has {values.shape[0]} entries but the episode has {len(record.reward_names)} reward models "
                f"{list(record.reward_names)}"
            )
        table = dict(zip(record.reward_names, values.tolist()))

    def lookup(s: SegmentRecord) -> float:
        if s.component not in table:
            raise ValueError(f"no weight for reward component {s.component!r}; weights cover {sorted(table)}")
        return table[s.component]

    return lookup


def token_rewards(
    record: EpisodeRecord, weights: Mapping[str, float] | Sequence[float] | np.ndarray | None = None
) -> np.ndarray:
    """Per-token rewards of one episode, shape ``(len(response_ids),)``, float32.

    Each segment adds ``weight x value`` on its token (episode-level ones on the final token); tokens
    outside ``response_mask`` are 0. ``weights`` maps component names to weights, or lists one per
    ``record.reward_names``; None uses the weight a scalarising wrapper attached to each segment, else the
    environment's ``default_weights`` (the paper's).

    Example:
        >>> token_rewards(record, {"relevance": 0.3, "factuality": 0.5, "completeness": 0.3})  # doctest: +SKIP
    """
    lookup = _weight_lookup(record, weights)
    out = np.zeros(len(record.generation.response_ids), dtype=np.float32)
    for segment in record.segments:
        out[segment.token_index] += lookup(segment) * segment.value
    out[record.num_used_tokens :] = 0.0
    return out


def run_episode(
    env: gym.Env,
    agent: Callable[[Mapping[str, str]], str],
    *,
    options: dict[str, Any] | None = None,
    seed: int | None = None,
    max_steps: int = 1000,
) -> tuple[str, np.ndarray, dict[str, Any]]:
    """Play one episode with a sentence agent (``LMPolicy.act``, a ``RandomSentenceAgent``, any callable).

    Returns the final response, the summed (unweighted) reward vector and the last step's info.
    """
    obs, info = env.reset(seed=seed, options=options)
    total: np.ndarray | None = None
    for _ in range(max_steps):
        obs, reward, terminated, truncated, info = env.step(agent(obs))
        vector = np.atleast_1d(np.asarray(reward, dtype=np.float32))
        total = vector if total is None else total + vector
        if terminated or truncated:
            return obs["response"], total, info
    raise RuntimeError(f"the agent did not end the episode within {max_steps} steps")
