"""The candidate-sentence view: an env of the core for agents that pick from a menu instead of writing text.

Stable-Baselines3's PPO, A2C and DQN act in a ``Discrete`` space and observe a ``Box``.
:class:`CandidateSentences` offers them, at each step, up to ``num_candidates`` sentences (the
example's menu: by default, :func:`passage_menu`, the current question's passage sentences; and
optionally sentences from a :class:`SentenceProposer`, such as a language model) and "end the answer";
the observation is a flat float32 vector of features of the task (the question), the answer so far
and every candidate (:mod:`fg_env.features`). The reward vector of the
environment passes through unchanged, so the reward-shaping wrappers stack above this one exactly as
above the environment: ``LinearScalarization(CandidateSentences(env))`` is a standard scalar-reward
environment with a fine-grained reward, ``HolisticReward(CandidateSentences(env))`` its holistic twin.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from fg_env.envs.core import FineGrainedEnv, core_env
from fg_env.errors import InvalidActionError, InvalidTypeError, InvalidValueError, UnknownChoiceError
from fg_env.features import DEFAULT_FEATURIZER, SentenceFeaturizer, make_featurizer
from fg_env.rewards.base import TaskExample
from fg_env.types import Action, Observation, QAExample

__all__ = ["SIGNAL_NAMES", "CandidateSentences", "ExampleMenu", "ObservationParts", "SentenceProposer", "passage_menu"]

#: The per-candidate signals after each candidate's features, in order (see :class:`CandidateSentences`).
SIGNAL_NAMES: tuple[str, ...] = ("valid", "used", "proposed", "similarity_to_question", "similarity_to_answer")
MASKED_ACTIONS: tuple[str, ...] = ("end", "raise")


class SentenceProposer(Protocol):
    """Proposes candidate next sentences: ``proposer(example, response, n) -> at most n strings``.

    ``example`` is the episode's example (any :class:`~fg_env.rewards.base.TaskExample`: its
    ``prompt`` is what an LM continues), ``response`` the answer so far. Blank strings and repeats
    are dropped; returning none is fine (the menu's sentences are still offered).
    ``agents.policies.proposer.LMProposer`` samples them from a language model.
    """

    def __call__(self, example: TaskExample, response: str, n: int) -> Sequence[str]: ...


@dataclass(frozen=True)
class ExampleMenu:
    """What the candidate view reads of an episode's example: the text that describes the task (its
    features open every observation) and the sentences offered throughout the episode (blanks and
    repeats are dropped by the view). :func:`passage_menu` is FineGrainedQA's.

    Example:
        >>> ExampleMenu("Once upon a time", ("There was a fox.", "It ran."))  # what a menu function returns
        ExampleMenu(task='Once upon a time', sentences=('There was a fox.', 'It ran.'))
    """

    task: str
    sentences: tuple[str, ...]


def passage_menu(example: TaskExample) -> ExampleMenu:
    """FineGrainedQA's menu: the question, and its passages' sentences in the passages' order.

    It reads a :class:`~fg_env.types.QAExample`; an environment of other examples gives the view a
    ``menu`` of its own.

    Example:
        >>> from fg_env.types import Passage
        >>> passage_menu(QAExample("q", "Who won?", (Passage("Race", ("Ann won.", "It rained.")),), ()))
        ExampleMenu(task='Who won?', sentences=('Ann won.', 'It rained.'))
    """
    if not isinstance(example, QAExample):
        raise InvalidTypeError(
            f"CandidateSentences' default menu (passage_menu) offers a QAExample's passage sentences, but the "
            f"environment's examples are {type(example).__name__}: give CandidateSentences a menu=function(example) "
            "-> ExampleMenu(task text, candidate sentences) for them"
        )
    return ExampleMenu(example.question, tuple(s for passage in example.passages for s in passage.sentences))


@dataclass(frozen=True)
class ObservationParts:
    """An observation of :class:`CandidateSentences` cut into its named parts
    (:meth:`CandidateSentences.split_observation`)."""

    question: np.ndarray  # (dim,)
    answer: np.ndarray  # (dim,)
    progress: float  # sentences in the answer / max_sentences
    candidate_features: np.ndarray  # (num_candidates, dim)
    candidate_signals: np.ndarray  # (num_candidates, len(SIGNAL_NAMES))


class CandidateSentences(gym.Wrapper[np.ndarray, np.int64, Observation, Action], gym.utils.RecordConstructorArgs):
    """Pick one of up to ``num_candidates`` sentences, or end the answer: a ``Discrete`` action and a
    ``Box`` observation over an environment of the core (FineGrainedQA-v0 for the default menu), for
    standard RL agents (Stable-Baselines3, sb3-contrib).

    **Actions**: ``Discrete(num_candidates + 1)``. Action ``i < num_candidates`` appends candidate ``i``
    (``info["candidates"][i]``); action ``num_candidates`` (:attr:`end_action`, the last) ends the answer.
    The end is last so that action ``i`` is slot ``i``, with nothing to subtract.

    **Candidates**: the menu's sentences (``menu(example)``; by default :func:`passage_menu`, the
    question's passage sentences; repeats dropped), in an order shuffled once per
    episode with the wrapper's own generator, seeded by ``reset(seed=...)``: the same question and seed
    give the same order, and a policy cannot learn "slot 0 is a good sentence" from the passages' layout
    (their first sentence is usually the one that names the work). ``shuffle=False`` keeps the passages'
    order. With a ``proposer``, its ``num_proposed`` sentences for the answer so far fill the slots after
    the passage sentences, fresh at every step (passage sentences beyond ``num_candidates -
    num_proposed`` are left out). Slots after the last candidate are padding.

    **Masks** (:meth:`action_masks`, what sb3-contrib's ``MaskablePPO`` reads): candidates and the end
    are valid, padding is not. A candidate already in the answer stays valid unless ``mask_used=True``:
    the annotator marks a repeated sentence Redundant, so an agent can learn not to repeat from the
    reward (and the ``used`` signal below). Agents that cannot mask (PPO, A2C, DQN) will pick masked
    slots; ``masked_action="end"`` (default) makes such a pick end the answer (``info["masked_action"]``
    is True), ``"raise"`` raises :class:`~fg_env.errors.InvalidActionError`. An index outside
    ``0..num_candidates`` or a non-integer action always raises it.

    **Observation**: ``Box(-1, 1, (2 * dim + 1 + num_candidates * (dim + 5),), float32)`` where ``dim`` is
    the featuriser's vector size: the question's features, the answer's (the normalised sum of its
    sentences' features; zeros while empty), the answer's progress (sentences / ``max_sentences``), then
    for each slot its features followed by :data:`SIGNAL_NAMES`: ``valid`` (1 for a candidate, 0 for
    padding), ``used`` (already in the answer), ``proposed`` (from the proposer),
    ``similarity_to_question`` (cosine) and ``similarity_to_answer`` (the largest cosine with a sentence
    of the answer: near 1 for a repeat). Padding slots are all zeros.
    :meth:`split_observation` cuts an observation into these parts.

    **Reward, ends, info**: the inner environment's reward vector, ``terminated`` and ``truncated``
    unchanged; info is the inner info plus ``action_index``, ``action_text`` (the sentence appended,
    ``""`` for the end), ``masked_action`` and ``candidates`` (the texts of the slots of the returned
    observation). ``reset`` adds ``candidates`` too.

    Args:
        env: an environment of the core (:class:`~fg_env.envs.core.FineGrainedEnv`; FineGrainedQA-v0 for
            the default menu), or a stack of vector-reward wrappers over one.
        num_candidates: slots (N); actions are ``0..N``.
        featurizer: a featuriser name (``"hashing"``, ``"minilm"``, ``"both"``) or object
            (:class:`~fg_env.features.SentenceFeaturizer`).
        proposer: optional source of extra candidate sentences, called at reset and after every step.
        num_proposed: slots reserved for the proposer's sentences (ignored without a proposer).
        shuffle: shuffle the passage sentences' order per episode (seeded by ``reset(seed=...)``).
        mask_used: mask candidates already in the answer.
        masked_action: what a masked action does: ``"end"`` the answer, or ``"raise"``.
        menu: what the view reads of each example: the task's text and the episode's sentences
            (:class:`ExampleMenu`); the default, :func:`passage_menu`, reads FineGrainedQA's questions.

    Example:
        >>> import gymnasium as gym, fg_env
        >>> from fg_env.wrappers import CandidateSentences, LinearScalarization
        >>> env = LinearScalarization(CandidateSentences(gym.make("FineGrainedQA-v0"), num_candidates=32))
        >>> obs, info = env.reset(seed=0)
        >>> env.action_space, obs.shape, obs.dtype.name
        (Discrete(33), (8865,), 'float32')
        >>> masks = env.get_wrapper_attr("action_masks")()
        >>> int(masks.sum()) == len(info["candidates"]) + 1  # every candidate, and the end (action 32)
        True
        >>> obs, reward, terminated, truncated, info = env.step(0)
        >>> info["action_text"] == info["candidates"][0] and env.unwrapped.response == info["action_text"]
        True
        >>> type(reward).__name__, terminated
        ('float', False)
        >>> env.step(32)[2]  # the end action
        True

    Change logs:
        * v0.2.0 - Initially added.
    """

    def __init__(
        self,
        env: gym.Env[Observation, Action],
        num_candidates: int = 32,
        featurizer: str | SentenceFeaturizer = DEFAULT_FEATURIZER,
        proposer: SentenceProposer | None = None,
        num_proposed: int = 4,
        shuffle: bool = True,
        mask_used: bool = False,
        masked_action: Literal["end", "raise"] = "end",
        menu: Callable[[Any], ExampleMenu] = passage_menu,
    ) -> None:
        gym.utils.RecordConstructorArgs.__init__(
            self,
            num_candidates=num_candidates,
            featurizer=featurizer,
            proposer=proposer,
            num_proposed=num_proposed,
            shuffle=shuffle,
            mask_used=mask_used,
            masked_action=masked_action,
            menu=menu,
        )
        gym.Wrapper.__init__(self, env)  # type: ignore[misc]  # our obs and action types differ from env's
        if not isinstance(env.action_space, spaces.Text) or not isinstance(env.unwrapped, FineGrainedEnv):
            raise InvalidTypeError(
                "CandidateSentences wraps an environment of the core (fg_env.envs.core.FineGrainedEnv) whose "
                f"action is a sentence (text), got {type(env.unwrapped).__name__} whose action space is {env.action_space}"
            )
        # Read one example now, so that a menu that cannot read this env's examples fails here, clearly.
        menu(core_env(env).examples[0])
        if not isinstance(num_candidates, int) or isinstance(num_candidates, bool) or num_candidates < 1:
            raise InvalidValueError(f"num_candidates must be a positive integer, got {num_candidates!r}")
        if proposer is not None:
            if not callable(proposer):
                raise InvalidTypeError(f"proposer must be callable as proposer(example, response, n), got {proposer!r}")
            if (
                not isinstance(num_proposed, int)
                or isinstance(num_proposed, bool)
                or not 1 <= num_proposed <= num_candidates
            ):
                raise InvalidValueError(
                    f"num_proposed must be an integer in 1..num_candidates ({num_candidates}), got {num_proposed!r}"
                )
        if masked_action not in MASKED_ACTIONS:
            raise UnknownChoiceError("masked_action", masked_action, MASKED_ACTIONS)
        self.num_candidates = num_candidates
        self.menu = menu
        self.featurizer = make_featurizer(featurizer)
        self.proposer = proposer
        self.num_proposed = num_proposed if proposer is not None else 0
        self.shuffle, self.mask_used, self.masked_action = shuffle, mask_used, masked_action
        self.end_action = num_candidates

        dim = self.featurizer.dim
        self._row_width = dim + len(SIGNAL_NAMES)
        self._head = 2 * dim + 1
        size = self._head + num_candidates * self._row_width
        self.action_space = spaces.Discrete(num_candidates + 1)
        self.observation_space = spaces.Box(-1.0, 1.0, shape=(size,), dtype=np.float32)

        self._rng: np.random.Generator | None = None
        self._passage: list[str] = []  # this episode's menu candidates, in slot order
        self._proposed: list[str] = []
        self._candidates: list[str] = []
        self._question = np.zeros(dim, dtype=np.float32)
        self._done = True

    # ---------------------------------------------------------------------------------- episode

    @property
    def candidates(self) -> list[str]:
        """The texts of the slots now offered (candidate ``i`` is action ``i``)."""
        return list(self._candidates)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        obs, info = self.env.reset(seed=seed, options=options)
        if seed is not None or self._rng is None:
            # Our own generator, so that shuffling does not move the environment's draw of questions; it
            # is seeded from the reset seed (a different stream from the environment's) or, unseeded,
            # from fresh entropy as Gymnasium does.
            self._rng = np.random.default_rng(None if seed is None else [seed, 0xCA4D])
        menu = self.menu(core_env(self).example)
        self._question = self.featurizer([menu.task])[0]
        self._passage = self._menu_candidates(menu)
        self._done = False
        self._refresh(core_env(self).response)
        info["candidates"] = self.candidates
        return self._observation(), info

    def _menu_candidates(self, menu: ExampleMenu) -> list[str]:
        seen: dict[str, None] = {}
        for sentence in menu.sentences:
            if sentence.strip():
                seen.setdefault(sentence.strip())
        sentences = list(seen)
        if self.shuffle and self._rng is not None:
            sentences = [sentences[i] for i in self._rng.permutation(len(sentences))]
        return sentences[: self.num_candidates - self.num_proposed]

    def _refresh(self, response: str) -> None:
        """The slots for the answer ``response``: the menu's sentences, then the proposer's."""
        self._proposed = []
        if self.proposer is not None:
            taken = set(self._passage)
            for sentence in self._propose(response):
                if sentence not in taken:
                    taken.add(sentence)
                    self._proposed.append(sentence)
        self._candidates = self._passage + self._proposed

    def _propose(self, response: str) -> list[str]:
        assert self.proposer is not None
        n = self.num_proposed
        proposed = self.proposer(core_env(self).example, response, n)
        if isinstance(proposed, (str, bytes)) or not isinstance(proposed, Sequence):
            raise InvalidTypeError(
                f"proposer {self.proposer!r} must return a list of at most {n} sentences, "
                f"got a {type(proposed).__name__}"
            )
        if len(proposed) > n:
            raise InvalidValueError(
                f"proposer {self.proposer!r} returned {len(proposed)} sentences; at most {n} were asked for"
            )
        for i, sentence in enumerate(proposed):
            if not isinstance(sentence, str):
                raise InvalidTypeError(
                    f"proposer {self.proposer!r} returned a {type(sentence).__name__} at position {i}; sentences are str"
                )
        return [s.strip() for s in proposed if s.strip()]  # a blank proposal offers nothing new

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        index = self._check_action(action)
        masked = not self.action_masks()[index]
        if masked and self.masked_action == "raise":
            raise InvalidActionError(self._masked_message(index))
        text = "" if masked or index == self.end_action else self._candidates[index]
        obs, reward, terminated, truncated, info = self.env.step(text)  # type: ignore[arg-type]
        self._done = terminated or truncated
        if not self._done:
            self._refresh(core_env(self).response)
        info.update(action_index=index, action_text=text, masked_action=masked, candidates=self.candidates)
        return self._observation(), reward, terminated, truncated, info

    def _check_action(self, action: Any) -> int:
        if isinstance(action, np.ndarray) and action.shape in ((), (1,)):
            action = action.reshape(()).item() if np.issubdtype(action.dtype, np.integer) else action
        if isinstance(action, (bool, np.bool_)) or not isinstance(action, (int, np.integer)):
            raise InvalidActionError(
                f"CandidateSentences takes an integer action in 0..{self.end_action} "
                f"({self.end_action} ends the answer), got {type(action).__name__} {action!r}"
            )
        if not 0 <= action <= self.end_action:
            raise InvalidActionError(
                f"action {int(action)} is out of range: valid actions are 0..{self.end_action} "
                f"(candidates 0..{self.end_action - 1}, {self.end_action} ends the answer)"
            )
        return int(action)

    def _masked_message(self, index: int) -> str:
        count = len(self._candidates)
        if index >= count:
            why = (
                f"slot {index} is padding: this question has {count} candidates (0..{count - 1})"
                if count
                else (f"slot {index} is padding: this question has no candidates")
            )
        else:
            why = f"candidate {index} is already in the answer and mask_used=True"
        return f"action {index} is masked ({why}); action {self.end_action} ends the answer"

    def action_masks(self) -> np.ndarray:
        """Which actions are valid now: a bool array of ``num_candidates + 1`` (the end always is)."""
        masks = np.zeros(self.num_candidates + 1, dtype=bool)
        masks[: len(self._candidates)] = True
        if self.mask_used:
            used = self._used_texts(self._answer_sentences())
            masks[: len(self._candidates)] = [c not in used for c in self._candidates]
        masks[self.end_action] = True
        return masks

    # ---------------------------------------------------------------------------------- features

    def _answer_sentences(self) -> list[str]:
        env = core_env(self)
        response = env.response
        return [span.slice(response) for span in env.sentences]

    def _used_texts(self, sentences: list[str]) -> set[str]:
        """The candidates the answer (its ``sentences``) holds: one of its sentences, or (a candidate of
        several sentences, which the environment splits) a whole run of them."""
        response = f" {core_env(self).response} "
        said = set(sentences)
        return {c for c in self._candidates if c in said or f" {c} " in response}

    def _observation(self) -> np.ndarray:
        dim, k = self.featurizer.dim, len(self._candidates)
        obs = np.zeros(self._head + self.num_candidates * self._row_width, dtype=np.float32)
        obs[:dim] = self._question
        sentences = self._answer_sentences()
        answer = self.featurizer(sentences) if sentences else np.zeros((0, dim), dtype=np.float32)
        if sentences:
            total = answer.sum(axis=0)
            norm = float(np.linalg.norm(total))
            obs[dim : 2 * dim] = total / norm if norm > 0 else total
        obs[2 * dim] = min(len(sentences) / core_env(self).max_sentences, 1.0)
        if k:
            features = self.featurizer(self._candidates)
            rows = obs[self._head :].reshape(self.num_candidates, self._row_width)
            rows[:k, :dim] = features
            signals = rows[:k, dim:]
            signals[:, 0] = 1.0
            used = self._used_texts(sentences)
            signals[:, 1] = [c in used for c in self._candidates]
            signals[len(self._passage) :, 2] = 1.0
            signals[:, 3] = features @ self._question
            signals[:, 4] = (features @ answer.T).max(axis=1) if sentences else 0.0
        # Unit vectors' dot products can exceed 1 by a rounding error; the space says [-1, 1].
        return np.clip(obs, -1.0, 1.0, out=obs)

    def split_observation(self, observation: np.ndarray) -> ObservationParts:
        """``observation`` cut into its parts (question, answer, progress, each slot's features and signals).

        Example:
            >>> import gymnasium as gym, fg_env
            >>> env = CandidateSentences(gym.make("FineGrainedQA-v0"), num_candidates=4, shuffle=False)
            >>> parts = env.split_observation(env.reset(seed=0)[0])
            >>> parts.candidate_features.shape, parts.candidate_signals[:, 0].tolist()  # column 0: valid
            ((4, 256), [1.0, 1.0, 1.0, 1.0])
        """
        obs = np.asarray(observation, dtype=np.float32)
        if obs.shape != self.observation_space.shape:
            raise InvalidValueError(f"expected an observation of shape {self.observation_space.shape}, got {obs.shape}")
        dim = self.featurizer.dim
        rows = obs[self._head :].reshape(self.num_candidates, self._row_width)
        return ObservationParts(obs[:dim], obs[dim : 2 * dim], float(obs[2 * dim]), rows[:, :dim], rows[:, dim:])
