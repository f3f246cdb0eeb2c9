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

The placement and the per-token sum are :mod:`fg_env.tokens`' (:func:`fg_env.tokens.place_played`,
:func:`fg_env.tokens.token_rewards`): the one implementation every trainer shares, verl's included. This
module adds what is the LM agent's own: its :class:`~agents.policies.policy.Generation` and the episode
record that keeps it.

Example:
    >>> import gymnasium as gym, fg_env
    >>> from agents.testing import tiny_policy
    >>> policy, env = tiny_policy(), gym.make("FineGrainedQA-v0")
    >>> [generation] = policy.generate([env.unwrapped.examples[0].prompt], max_new_tokens=24, seed=0)
    >>> record = replay(env, generation, index=0)
    >>> token_rewards(record).shape == (len(generation.response_ids),)
    True
    >>> record.reward_names, record.terminated or record.truncated
    (('relevance', 'factuality', 'completeness'), True)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np

from agents.policies.policy import Generation
from fg_env import tokens
from fg_env.envs.answers import PlayedAnswer, play_answer, play_answers, sentence_actions
from fg_env.errors import InvalidValueError
from fg_env.tokens import TokenPlacement, token_index_of_char

if TYPE_CHECKING:
    from fg_env.envs.vector import FineGrainedVectorEnv

__all__ = [
    "EpisodeRecord",
    "SegmentRecord",
    "replay",
    "replay_batch",
    "replay_many",
    "sentence_actions",
    "run_episode",
    "token_rewards",
    "token_index_of_char",
]


#: A scored segment of an episode and the response token that receives its reward: ``start``/``end`` are
#: offsets in the environment's response (``EpisodeRecord.response``), ``step`` the step that scored it,
#: ``weight`` the weight a scalarising wrapper attached to it (None if none). It is
#: :class:`fg_env.tokens.TokenSegment`, under the name the agents have always used.
SegmentRecord = tokens.TokenSegment


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

    @property
    def placement(self) -> TokenPlacement:
        """The episode's segments on tokens, as :mod:`fg_env.tokens` states them (what :func:`token_rewards` sums)."""
        return TokenPlacement(
            self.segments,
            len(self.generation.response_ids),
            self.num_used_tokens,
            self.reward_names,
            self.default_weights,
        )

    def total_reward(self) -> np.ndarray:
        """The unweighted return of each reward model, shape ``(K,)``."""
        return self.step_rewards.sum(axis=0)


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
    _check_generation(generation)
    played = play_answer(env, generation.response_text, index=index, example_id=example_id, seed=seed)
    return _record(env, generation, played)


def replay_batch(
    envs: FineGrainedVectorEnv[Any],
    generations: Sequence[Generation],
    *,
    indices: Sequence[int] | None = None,
    example_ids: Sequence[str] | None = None,
    seed: int | None = None,
) -> list[EpisodeRecord]:
    """:func:`replay` many generations side by side on a vector env: each step scores every answer's new
    segments with one call per reward model (what makes learned reward models cheap on a GPU).

    Each record is what :func:`replay` gives on one of ``envs``'s sub-envs (:meth:`FineGrainedVectorEnv.from_env`
    makes them copies of a scheme-wrapped env).

    Example:
        >>> import gymnasium as gym, fg_env
        >>> from fg_env.envs.vector import FineGrainedQAVectorEnv
        >>> from agents.testing import tiny_policy
        >>> policy, env = tiny_policy(), gym.make("FineGrainedQA-v0")
        >>> generations = policy.generate([env.unwrapped.examples[i].prompt for i in (0, 1, 2)], max_new_tokens=24, seed=0)
        >>> records = replay_batch(FineGrainedQAVectorEnv.from_env(env, 2), generations, indices=[0, 1, 2])
        >>> records[2].step_rewards.tolist() == replay(env, generations[2], index=2).step_rewards.tolist()
        True
    """
    for generation in generations:
        _check_generation(generation)
    played = play_answers(
        envs, [g.response_text for g in generations], indices=indices, example_ids=example_ids, seed=seed
    )
    return [_record(envs, g, p) for g, p in zip(generations, played)]


def _check_generation(generation: Generation) -> None:
    if not generation.response_ids:
        raise InvalidValueError("the generation has no response tokens: there is no token to put a reward on")


def _record(env: Any, generation: Generation, played: PlayedAnswer) -> EpisodeRecord:
    """The generation's episode in token coordinates."""
    if played.prompt and played.prompt != generation.prompt:
        raise InvalidValueError(
            f"the generation was made for another prompt than question {played.example_id!r}: "
            f"{generation.prompt[:80]!r}... versus {played.prompt[:80]!r}..."
        )
    # The eos token ends where the text ends but holds no character: never the owner of a segment's last
    # character (it gets episode-level rewards as the final token instead).
    ids = generation.response_ids
    text_tokens = len(ids) - 1 if generation.finished else len(ids)
    placement = tokens.place_played(played, generation.token_end_chars, num_text_tokens=text_tokens, env=env)
    step_rewards = played.rewards.reshape(played.num_steps, -1).astype(np.float32)
    return EpisodeRecord(
        example_id=played.example_id,
        generation=generation,
        response=played.response,
        reward_names=placement.reward_names,
        default_weights=placement.default_weights,
        step_rewards=step_rewards,
        step_reward_masks=played.reward_masks,
        segments=placement.segments,
        terminated=played.terminated,
        truncated=played.truncated,
        num_used_tokens=placement.num_used_tokens,
        final_token_index=placement.final_token_index,
    )


def replay_many(
    env: gym.Env,
    generations: Sequence[Generation],
    example_ids: Sequence[str],
    seed: int | None = None,
) -> list[EpisodeRecord]:
    """:func:`replay` each generation on its question, reusing one environment."""
    if len(generations) != len(example_ids):
        raise InvalidValueError(f"{len(generations)} generations but {len(example_ids)} example ids")
    return [replay(env, g, example_id=i, seed=seed) for g, i in zip(generations, example_ids)]


def token_rewards(record: EpisodeRecord, weights: tokens.Weights = None) -> np.ndarray:
    """Per-token rewards of one episode, shape ``(len(response_ids),)``, float32: :func:`fg_env.tokens.token_rewards`
    of the record's placement.

    Each segment adds ``weight x value`` on its token (episode-level ones on the final token); tokens
    outside ``response_mask`` are 0. ``weights`` maps component names to weights, or lists one per
    ``record.reward_names``; None uses the weight a scalarising wrapper attached to each segment, else the
    environment's ``default_weights`` (the paper's).

    Example (a record whose one segment is a -1 factuality verdict on token 2 of 4):
        >>> from agents.policies.policy import Generation
        >>> g = Generation("p", [0], [5, 6, 7, 8], "Ann won.", [3, 4, 7, 8], finished=False)
        >>> s = SegmentRecord(component="factuality", granularity="sentence", start=0, end=8, text="Ann won.",
        ...                   value=-1.0, label="Wrong-Grounding", step=0, token_index=2)
        >>> r = EpisodeRecord("q", g, "Ann won.", ("factuality",), (0.5,), np.zeros((1, 1)), np.ones((1, 1), bool),
        ...                   (s,), True, False, 4, 3)
        >>> token_rewards(r).tolist(), token_rewards(r, {"factuality": 2.0}).tolist()
        ([0.0, 0.0, -0.5, 0.0], [0.0, 0.0, -2.0, 0.0])
    """
    return tokens.token_rewards(record.placement, weights)


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
