"""Play whole answers through the environment, sentence by sentence: many at once on the vector env.

An answer written in one go (by a language model, a dataset, a TRL trainer) becomes an episode by
stepping its sentences as actions and ending with the empty action: :func:`sentence_actions` cuts it,
:func:`play_answer` plays one on any environment of the core (:mod:`fg_env.envs.core`, wrapped or
not), and :func:`play_answers` plays many on a :class:`~fg_env.envs.vector.FineGrainedVectorEnv`, side
by side, each step scoring every answer's new segments with one call per reward model. Answers of
different lengths need no padding actions: only the sub-envs whose answer goes on are stepped.

Example:
    >>> import gymnasium as gym, fg_env
    >>> envs = gym.make_vec("FineGrainedQA-v0", num_envs=2)
    >>> examples = envs.unwrapped.core_envs[0].examples
    >>> played = play_answers(envs, [examples[0].references[0], "The sky is green."], indices=[0, 1])
    >>> [p.num_steps > 1 for p in played], played[1].episode_return().tolist()[:2]
    ([True, True], [-1.0, 1.0])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

from fg_env.envs.core import core_env
from fg_env.envs.vector import FineGrainedVectorEnv
from fg_env.errors import InvalidTypeError, InvalidValueError
from fg_env.text import split_sentences

__all__ = ["PlayedAnswer", "play_answer", "play_answers", "sentence_actions"]


def sentence_actions(text: str) -> list[tuple[int, int]]:
    """The character ranges of ``text`` stepped as actions: each sentence with the whitespace before it,
    then the empty range that ends the answer. Stepped in order they rebuild ``text`` verbatim.

    Example:
        >>> sentence_actions("Ann won. Bob lost.")
        [(0, 8), (8, 18), (18, 18)]
    """
    actions, previous = [], 0
    for sentence in split_sentences(text):
        actions.append((previous, sentence.end))
        previous = sentence.end
    actions.append((previous, previous))
    return actions


@dataclass(frozen=True)
class PlayedAnswer:
    """One answer played as an episode: what each step returned.

    ``actions[t]`` is the character range of the answer stepped at step ``t`` (empty for the ending
    action); ``responses[t]`` the environment's answer after it. An episode truncated at
    ``max_sentences`` stops before the answer's end: ``consumed_end`` says how much was taken.
    ``rewards`` has one row per step: ``(steps, K)`` for a reward vector, ``(steps,)`` for a scalar.
    """

    example_id: str
    prompt: str
    answer: str
    actions: tuple[tuple[int, int], ...]
    responses: tuple[str, ...]
    rewards: np.ndarray
    reward_masks: np.ndarray
    infos: tuple[dict[str, Any], ...]
    terminated: bool
    truncated: bool

    @property
    def num_steps(self) -> int:
        return len(self.actions)

    @property
    def response(self) -> str:
        """The environment's final answer."""
        return self.responses[-1]

    @property
    def consumed_end(self) -> int:
        """How many characters of ``answer`` the environment took."""
        return self.actions[-1][1]

    def episode_return(self) -> np.ndarray:
        """The summed (unweighted) reward of the episode: shape ``(K,)``, or ``()`` for a scalar."""
        return self.rewards.sum(axis=0)


@dataclass
class _Steps:
    """What one answer's steps have returned so far."""

    actions: list[tuple[int, int]] = field(default_factory=list)
    responses: list[str] = field(default_factory=list)
    rewards: list[np.ndarray] = field(default_factory=list)
    masks: list[np.ndarray] = field(default_factory=list)
    infos: list[dict[str, Any]] = field(default_factory=list)
    terminated: bool = False
    truncated: bool = False

    def add(self, action: tuple[int, int], response: str, reward: Any, done: tuple[bool, bool], info: dict) -> None:
        vector = np.asarray(reward, dtype=np.float32)
        self.actions.append(action)
        self.responses.append(response)
        self.rewards.append(vector)
        self.masks.append(
            np.atleast_1d(np.asarray(info.get("reward_mask", np.ones(vector.shape, dtype=bool)), dtype=bool))
        )
        self.infos.append(info)
        self.terminated, self.truncated = bool(done[0]), bool(done[1])

    @property
    def over(self) -> bool:
        return self.terminated or self.truncated

    def played(self, reset_info: dict[str, Any], answer: str) -> PlayedAnswer:
        return PlayedAnswer(
            example_id=str(reset_info.get("example_id", "")),
            prompt=str(reset_info.get("prompt", "")),
            answer=answer,
            actions=tuple(self.actions),
            responses=tuple(self.responses),
            rewards=np.stack(self.rewards),
            reward_masks=np.stack(self.masks),
            infos=tuple(self.infos),
            terminated=self.terminated,
            truncated=self.truncated,
        )


def _question_options(index: int | None, example_id: str | None) -> dict[str, Any]:
    if (example_id is None) == (index is None):
        raise InvalidValueError("give exactly one of example_id= or index= to pick the question")
    return {"example_id": example_id} if example_id is not None else {"index": index}


def play_answer(
    env: gym.Env, answer: str, *, index: int | None = None, example_id: str | None = None, seed: int | None = None
) -> PlayedAnswer:
    """Reset ``env`` (any env of the core, under any wrappers) on an example and play ``answer``.

    Example:
        >>> import gymnasium as gym, fg_env
        >>> played = play_answer(gym.make("FineGrainedQA-v0"), "The sky is green.", index=0)
        >>> played.actions, played.terminated
        (((0, 17), (17, 17)), True)
    """
    if not isinstance(answer, str):
        raise InvalidTypeError(f"an answer is a str, got {type(answer).__name__}")
    core = core_env(env)  # the answer so far is the core's, whatever the wrappers make of the observation
    _, reset_info = env.reset(seed=seed, options=_question_options(index, example_id))
    steps = _Steps()
    for start, end in sentence_actions(answer):
        _, reward, terminated, truncated, info = env.step(answer[start:end])
        steps.add((start, end), core.response, reward, (terminated, truncated), info)
        if steps.over:
            return steps.played(reset_info, answer)
    raise RuntimeError("the environment did not end the episode on the empty action")


def play_answers(
    envs: FineGrainedVectorEnv[Any],
    answers: Sequence[str],
    *,
    indices: Sequence[int] | None = None,
    example_ids: Sequence[str] | None = None,
    seed: int | None = None,
) -> list[PlayedAnswer]:
    """Play ``answers[b]`` on question ``indices[b]`` (or ``example_ids[b]``) side by side on ``envs``.

    ``num_envs`` answers at a time; each step scores every answer's new segments with one call per
    reward model. The result is what :func:`play_answer` gives each answer on a sub-env of ``envs``.
    """
    answers = list(answers)
    if any(not isinstance(a, str) for a in answers):
        raise InvalidTypeError("answers must be strings")
    if (indices is None) == (example_ids is None):
        raise InvalidValueError("give exactly one of indices= or example_ids= to pick each answer's question")
    key = "index" if indices is not None else "example_id"
    questions: list[Any] = list(indices if indices is not None else example_ids or [])
    if len(questions) != len(answers):
        raise InvalidValueError(f"{len(answers)} answers but {len(questions)} questions ({key})")
    played: list[PlayedAnswer] = []
    for start in range(0, len(answers), envs.num_envs):
        chunk = range(start, min(start + envs.num_envs, len(answers)))
        played += _play_chunk(envs, [answers[b] for b in chunk], key, [questions[b] for b in chunk], seed)
    return played


def _play_chunk(
    envs: FineGrainedVectorEnv[Any], answers: list[str], key: str, questions: list[Any], seed: int | None
) -> list[PlayedAnswer]:
    """Play at most ``num_envs`` answers, answer ``j`` on sub-env ``j``."""
    n, size = len(answers), envs.num_envs
    # Sub-envs this chunk leaves alone keep their episodes, but the vector env has to have started them
    # all once (a fresh vector env with more sub-envs than this chunk's answers): those start here too.
    mask = (np.arange(size) < n) | ~envs.started
    padded = questions + [questions[0]] * (size - n)  # options for sub-envs this chunk leaves alone
    _, reset_infos = envs.reset(seed=seed, options={key: padded, "reset_mask": mask})
    plans = [sentence_actions(answer) for answer in answers]
    steps = [_Steps() for _ in answers]
    live = list(range(n))
    while live:
        ranges = [plans[j][len(steps[j].actions)] for j in live]
        actions = [answers[j][a:b] for j, (a, b) in zip(live, ranges)]
        _, rewards, terminated, truncated, infos = envs.step(actions, env_ids=live)
        for row, j in enumerate(live):
            info = info_row(infos, row)
            response = envs.core_envs[j].response
            steps[j].add(ranges[row], response, rewards[row], (terminated[row], truncated[row]), info)
            if not steps[j].over and len(steps[j].actions) == len(plans[j]):
                raise RuntimeError("the environment did not end the episode on the empty action")
        live = [j for j in live if not steps[j].over]
    return [s.played(info_row(reset_infos, j), answer) for j, (s, answer) in enumerate(zip(steps, answers))]


def info_row(infos: dict[str, Any], row: int) -> dict[str, Any]:
    """Sub-env ``row``'s info out of a vector env's stacked infos (Gymnasium's ``_key`` masks).

    Example:
        >>> info_row({"a": np.array([1, 2]), "_a": np.array([False, True])}, 1)
        {'a': 2}
    """
    out: dict[str, Any] = {}
    for key, value in infos.items():
        if key.startswith("_"):
            continue
        if isinstance(value, dict):
            out[key] = info_row(value, row)
            continue
        present = infos.get(f"_{key}")
        if present is not None and not present[row]:
            continue
        item = value[row]
        out[key] = item.item() if isinstance(item, np.generic) else item
    return out
