"""The segment-reward core every fg_env environment is built on: text in, scored segments out.

:class:`FineGrainedEnv` turns each action (one sentence, or several, of an answer) into the answer's
new segments at every reward model's granularity, scores them in one batched call per model, and
returns the unweighted reward vector, its mask and ``info["segments"]``. It is generic over its
example type (anything with the fields of :class:`~fg_env.rewards.base.TaskExample`); a task adds
only what is its own: where its examples come from and what the agent observes. FineGrainedQA-v0
(:class:`~fg_env.envs.qa.FineGrainedQAEnv`) is one such task; ``tests/test_second_env.py`` builds
another in a few lines.

A step runs in phases (:meth:`FineGrainedEnv.plan` -> :meth:`~FineGrainedEnv.scoring_requests` ->
score -> :meth:`~FineGrainedEnv.commit` + :meth:`~FineGrainedEnv.finish_step`), so that the vector env
(:mod:`fg_env.envs.vector`) can plan every sub-env's step, score them all together, and hand each
sub-env its scores (:meth:`~FineGrainedEnv.prescore`) before stepping it through its wrappers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar, Generic, TypeVar

import gymnasium as gym
import numpy as np

from fg_env.errors import InvalidActionError, InvalidTypeError, InvalidValueError, ResetNeededError, UnknownChoiceError
from fg_env.render import answer_html, html_page
from fg_env.rewards.base import RewardModel, ScoringRequest, SegmentScore, TaskExample, check_scores
from fg_env.rewards.registry import make_reward_model
from fg_env.rewards.vector import RewardComponent, RewardVectorFacts
from fg_env.segments import ScoredSegment, SegmentInfo
from fg_env.spaces import UnicodeText
from fg_env.text import segments_at, split_sentences
from fg_env.types import Action, Granularity, Observation, Span

__all__ = ["ExampleT", "FineGrainedEnv", "PendingStep", "Prescored", "core_env", "score_checked"]

#: The example type of an environment: whatever its task's examples are, with TaskExample's fields.
ExampleT = TypeVar("ExampleT", bound=TaskExample)


@dataclass(frozen=True)
class PendingStep:
    """What an action does to the answer, worked out before anything changes (:meth:`FineGrainedEnv.plan`).

    Example:
        >>> import gymnasium as gym, fg_env
        >>> env = gym.make("FineGrainedQA-v0", max_sentences=2).unwrapped
        >>> _ = env.reset(seed=0)
        >>> pending = env.plan("It rained. It stopped.")
        >>> pending.new_sentences, pending.truncated, env.response
        ((Span(start=0, end=10), Span(start=11, end=22)), True, '')
    """

    response: str  # the answer once the action is appended
    sentences: tuple[Span, ...]  # every sentence of that answer
    new_sentences: tuple[Span, ...]  # the sentences this action adds
    terminated: bool
    truncated: bool
    inserted_separator: bool

    @property
    def episode_over(self) -> bool:
        return self.terminated or self.truncated


@dataclass(frozen=True)
class Prescored:
    """Scores computed ahead of a step, by a caller that batches many environments' requests (the
    vector env); the step uses them only if it is the step they were computed for.

    Example:
        >>> import gymnasium as gym, fg_env
        >>> env = gym.make("FineGrainedQA-v0").unwrapped
        >>> _ = env.reset(seed=0)
        >>> pending = env.plan("It rained.")
        >>> requests = env.scoring_requests(pending)  # one list per reward model
        >>> env.prescore("It rained.", pending, requests, [[SegmentScore(0.5)], [SegmentScore(0.25)], []])
        >>> env.step("It rained.")[1].tolist()  # no reward model called: the scores handed over
        [0.5, 0.25, 0.0]
    """

    example: TaskExample
    response_before: str
    action: str
    pending: PendingStep
    requests: list[list[ScoringRequest]]
    scores: list[list[SegmentScore]]


def score_checked(model: RewardModel, requests: Sequence[ScoringRequest]) -> list[SegmentScore]:
    """``model.score(requests)``, checked against the contract; no call at all for no request."""
    if not requests:
        return []
    scores = list(model.score(requests))
    check_scores(model, requests, scores)
    return scores


class FineGrainedEnv(RewardVectorFacts, gym.Env[Observation, Action], Generic[ExampleT]):
    """Write an answer one action at a time; get one reward per fine-grained reward model.

    Each ``step(text)`` appends ``text`` to the answer (one space is inserted only when the two would
    otherwise touch) and returns an unweighted ``float32`` reward vector with one entry per reward
    model (MO-Gymnasium's convention: ``reward_space``, ``reward_names`` and ``default_weights`` are
    on the unwrapped env). Segment-level models score each new sub-sentence or sentence right away;
    episode-level models score the final answer on the step that ends it. ``info["segments"]`` lists
    every scored segment with its character span in the answer, and ``info["reward_mask"]`` tells
    "not scored this step" from 0. The empty action ends the answer (``terminated``); the answer is
    ``truncated`` once it holds ``max_sentences`` sentences. ``reset`` draws an example, or takes
    ``options={"index": i}`` or ``{"example_id": ...}``; its info holds the example's ``prompt``,
    ``references`` and ``example_id``.

    A task subclasses it and adds what is its own:

    - builds its examples and passes them, with the reward models, to ``__init__``;
    - sets ``observation_space`` and implements :meth:`_observation` (what the agent sees);
    - optionally names itself and its examples (``env_name``, ``example_noun``), weights its reward
      models by name (``weights_by_model``), adds what its copies share (:meth:`shared_parts`), and
      says what a page shows above an answer (:meth:`_render_question`).

    Args:
        examples: the examples episodes are drawn from (non-empty).
        reward_models: names, folders of saved learned models, or :class:`RewardModel` objects.
        max_sentences: the episode is truncated once the answer holds this many sentences.
        render_mode: ``"ansi"``, ``"human"``, ``"html"`` or None.

    Example:
        >>> from dataclasses import dataclass
        >>> from gymnasium import spaces
        >>> @dataclass(frozen=True)
        ... class Prompt:
        ...     id: str
        ...     prompt: str
        ...     context: str = ""
        ...     references: tuple[str, ...] = ()
        >>> class Brevity(RewardModel):
        ...     name, granularity, bounds = "brevity", Granularity.SENTENCE, (0.0, 1.0)
        ...     def score(self, requests):
        ...         return [SegmentScore(1.0 if len(r.segment_text) < 40 else 0.0) for r in requests]
        >>> class Continue(FineGrainedEnv[Prompt]):
        ...     def __init__(self, **kwargs):
        ...         super().__init__([Prompt("p0", "Once upon a time")], [Brevity()], **kwargs)
        ...         self.observation_space = spaces.Dict({"prompt": UnicodeText(), "response": UnicodeText()})
        ...     def _observation(self):
        ...         return {"prompt": self.example.prompt, "response": self.response}
        >>> env = Continue(max_sentences=2)
        >>> obs, info = env.reset(seed=0)
        >>> info["example_id"], obs
        ('p0', {'prompt': 'Once upon a time', 'response': ''})
        >>> obs, reward, terminated, truncated, info = env.step("there was a fox. It ran.")
        >>> reward.tolist(), truncated, [s["text"] for s in info["segments"]]
        ([2.0], True, ['there was a fox.', 'It ran.'])
    """

    metadata: dict[str, Any] = {"render_modes": ["ansi", "human", "html"]}
    #: What pages and messages call this environment, and one of its examples.
    env_name: ClassVar[str] = "FineGrainedEnv"
    example_noun: ClassVar[str] = "example"
    #: The default weight of each reward model, by name; a model not named here weighs 1.0.
    weights_by_model: ClassVar[Mapping[str, float]] = MappingProxyType({})

    def __init__(
        self,
        examples: Sequence[ExampleT],
        reward_models: Sequence[str | RewardModel] | str | RewardModel,
        max_sentences: int = 10,
        render_mode: str | None = None,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise UnknownChoiceError("render mode", render_mode, self.metadata["render_modes"])
        if not isinstance(max_sentences, int) or max_sentences < 1:
            raise InvalidValueError(f"max_sentences must be a positive integer, got {max_sentences!r}")
        self.examples: Sequence[ExampleT] = examples
        if len(self.examples) == 0:
            raise InvalidValueError(f"{self.example_source} holds no {self.example_noun}s")
        if isinstance(reward_models, (str, RewardModel)):
            reward_models = [reward_models]
        self.reward_models: tuple[RewardModel, ...] = tuple(make_reward_model(spec) for spec in reward_models)
        if not self.reward_models:
            raise InvalidValueError("reward_models is empty: give at least one reward model")
        names = [m.name for m in self.reward_models]
        if len(set(names)) != len(names):
            raise InvalidValueError(f"reward model names must be unique, got {names}")
        for model in self.reward_models:
            model.check_example(self.examples[0])
        self.max_sentences = max_sentences
        self.render_mode = render_mode

        # One entry per reward model; reward_names, reward_space, default_weights and
        # reward_granularities derive from these, and wrappers read them (not the models).
        self.reward_components: tuple[RewardComponent, ...] = tuple(
            RewardComponent(
                m.name,
                Granularity(m.granularity),
                (float(m.bounds[0]), float(m.bounds[1])),
                self.weights_by_model.get(m.name, 1.0),
            )
            for m in self.reward_models
        )
        self.action_space = UnicodeText()

        self._example: ExampleT | None = None
        self._response = ""
        self._sentences: list[Span] = []
        self._done = True
        self._prescored: Prescored | None = None
        self._index_by_id: dict[str, int] | None = None  # built on the first reset by id
        # The episode's scored segments, kept for render_mode="html" only (other modes pay nothing).
        self._rendered_segments: list[SegmentInfo] = []

    # ------------------------------------------------------------------------------ the task's part

    def _observation(self) -> Observation:
        """What the agent observes now (``self.example`` and ``self.response``): the task's to say."""
        raise NotImplementedError(f"{type(self).__name__} must implement _observation()")

    def _render_question(self) -> str:
        """What a rendered answer answers: the example's prompt, unless the task says otherwise."""
        return self.example.prompt

    @property
    def example_source(self) -> str:
        """Where the examples come from, as error messages name it."""
        return f"{self.env_name}'s examples"

    @property
    def reward_versions(self) -> dict[str, str | None]:
        """``{reward model name: version}``: which scorer gives each reward (:attr:`RewardModel.version`; the
        annotator-backed models give the annotator's), so any writer of results records it
        (:func:`fg_env.rewards.versions.scored_by`) without knowing which models the env uses."""
        return {model.name: model.version for model in self.reward_models}

    def shared_parts(self) -> list[Any]:
        """What copies of this environment share rather than copy (:func:`fg_env.envs.vector.copy_env`,
        the vector env): the examples and the reward models. A task adds its own heavy parts."""
        return [self.examples, *self.reward_models]

    # ----------------------------------------------------------------------------------- episode

    @property
    def example(self) -> ExampleT:
        """The example of the current episode."""
        if self._example is None:
            raise RuntimeError("no episode yet: call reset() first")
        return self._example

    @property
    def response(self) -> str:
        """The answer so far."""
        return self._response

    @property
    def sentences(self) -> tuple[Span, ...]:
        """Sentence spans of the answer so far (each action's sentences, in order)."""
        return tuple(self._sentences)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Observation, dict[str, Any]]:
        """Start a new answer to an example drawn from the environment's examples.

        ``options={"index": i}`` or ``options={"example_id": "..."}`` picks the example instead.
        """
        super().reset(seed=seed)
        self._example = example = self._pick_example(options or {})
        self._response = ""
        self._sentences = []
        self._done = False
        self._prescored = None
        self._rendered_segments = []
        info = {"prompt": example.prompt, "references": list(example.references), "example_id": example.id}
        return self._observation(), info

    def _pick_example(self, options: dict[str, Any]) -> ExampleT:
        unknown = set(options) - {"index", "example_id"}
        if unknown:
            raise InvalidValueError(f"unknown reset options {sorted(unknown)}; valid: 'index', 'example_id'")
        if "index" in options:
            index = options["index"]
            if not isinstance(index, (int, np.integer)) or not 0 <= index < len(self.examples):
                raise IndexError(
                    f"reset option index={index!r} is outside {self.example_source} (0..{len(self.examples) - 1})"
                )
            return self.examples[int(index)]
        if "example_id" in options:
            return self._example_by_id(options["example_id"])
        return self.examples[int(self.np_random.integers(len(self.examples)))]

    def _example_by_id(self, example_id: str) -> ExampleT:
        if self._index_by_id is None:
            self._index_by_id = {ex.id: i for i, ex in enumerate(self.examples)}
        if example_id not in self._index_by_id:
            raise KeyError(f"no {self.example_noun} with id {example_id!r} in {self.example_source}")
        return self.examples[self._index_by_id[example_id]]

    def step(self, action: str) -> tuple[Observation, np.ndarray, bool, bool, dict[str, Any]]:
        self.check_step(action)
        prescored, self._prescored = self._prescored, None
        if prescored is not None and self._is_prescored_for(prescored, action):
            pending, requests, scores = prescored.pending, prescored.requests, prescored.scores
        else:
            pending = self.plan(action)
            requests = self.scoring_requests(pending)
            scores = [score_checked(model, reqs) for model, reqs in zip(self.reward_models, requests)]
        self.commit(pending)
        return self.finish_step(pending, requests, scores)

    # ------------------------------------------------------------------ a step in four phases
    # step() = plan (what the action adds) -> scoring_requests -> score -> commit + finish_step. The
    # vector env plans and scores every sub-env's step itself, one score call per reward model for all
    # of them, and hands each sub-env its scores (prescore) before stepping it through its wrappers.

    def plan(self, action: str) -> PendingStep:
        """What appending ``action`` gives: the new answer, its new sentences, whether the episode ends.
        Nothing changes until :meth:`commit`."""
        terminated = not action.strip()
        if terminated:
            return PendingStep(self._response, tuple(self._sentences), (), True, False, False)
        inserted_separator = bool(self._response) and not self._response[-1].isspace() and not action[0].isspace()
        offset = len(self._response) + inserted_separator
        response = self._response + " " * inserted_separator + action
        new_sentences = tuple(Span(s.start + offset, s.end + offset) for s in split_sentences(action))
        sentences = (*self._sentences, *new_sentences)
        truncated = len(sentences) >= self.max_sentences
        return PendingStep(response, sentences, new_sentences, False, truncated, inserted_separator)

    def commit(self, pending: PendingStep) -> None:
        """Make ``pending`` (planned from the current answer) the answer."""
        self._response = pending.response
        self._sentences = list(pending.sentences)
        self._done = pending.episode_over

    def prescore(
        self, action: str, pending: PendingStep, requests: list[list[ScoringRequest]], scores: list[list[SegmentScore]]
    ) -> None:
        """Hand the next ``step(action)`` the scores of ``requests`` (planned as ``pending`` from the
        current answer), so that it calls no reward model. Any other next step ignores them."""
        self._prescored = Prescored(self.example, self._response, action, pending, requests, scores)

    def _is_prescored_for(self, prescored: Prescored, action: str) -> bool:
        # The same example, the very answer object the plan was made from, and the same action: the
        # plan is then exactly what plan(action) would give now.
        return (
            prescored.example is self._example
            and prescored.response_before is self._response
            and prescored.action == action
        )

    def check_step(self, action: Any) -> None:
        """Raise the error ``step(action)`` would raise for misuse, before anything changes."""
        if self._example is None:
            raise ResetNeededError("step() before reset(): call reset() to start an episode")
        if self._done:
            raise ResetNeededError(
                "this episode has ended (terminated or truncated): call reset() before stepping again"
            )
        if not isinstance(action, str):
            raise InvalidActionError(f"an action is a str (one sentence), got {type(action).__name__}")

    def scoring_requests(self, pending: PendingStep) -> list[list[ScoringRequest]]:
        """For each reward model, the requests for ``pending``'s new segments at its granularity."""
        example = self.example
        out = []
        for model in self.reward_models:
            spans = self._segments_at(Granularity(model.granularity), pending)
            out.append([ScoringRequest(example, pending.response[: s.end], s) for s in spans])
        return out

    def finish_step(
        self, pending: PendingStep, requests: list[list[ScoringRequest]], scores: list[list[SegmentScore]]
    ) -> tuple[Observation, np.ndarray, bool, bool, dict[str, Any]]:
        """The step's result from the reward models' scores of ``requests``."""
        reward = np.zeros(len(self.reward_models), dtype=np.float32)
        mask = np.zeros(len(self.reward_models), dtype=bool)
        scored: list[ScoredSegment] = []
        for k, (model, model_requests, model_scores) in enumerate(zip(self.reward_models, requests, scores)):
            if not model_requests:
                continue
            mask[k] = True
            reward[k] = sum(score.value for score in model_scores)
            scored.extend(
                ScoredSegment(
                    model.name,
                    Granularity(model.granularity).value,
                    r.segment.start,
                    r.segment.end,
                    r.segment_text,
                    float(score.value),
                    score.label,
                )
                for r, score in zip(model_requests, model_scores)
            )
        info = {
            "segments": [s.to_info() for s in scored],
            "reward_mask": mask,
            "num_sentences": len(self._sentences),
            "inserted_separator": pending.inserted_separator,
        }
        if self.render_mode == "human":
            print(self._render_text(scored))
        elif self.render_mode == "html":
            # Records of their own, not info's: whatever a caller does to info leaves the page as scored.
            self._rendered_segments.extend(s.to_info() for s in scored)
        return self._observation(), reward, pending.terminated, pending.truncated, info

    @staticmethod
    def _segments_at(granularity: Granularity, pending: PendingStep) -> list[Span]:
        """The step's segments at ``granularity``: those of the new sentences, or the whole answer
        once the episode is over."""
        if granularity is Granularity.EPISODE:
            return segments_at(pending.response, granularity, pending.sentences) if pending.episode_over else []
        return segments_at(pending.response, granularity, pending.new_sentences)

    # ----------------------------------------------------------------------------------- views

    def render(self) -> str | None:
        """``"ansi"``: the question and the answer as text. ``"html"``: a standalone HTML page of the
        answer so far, each scored segment coloured by its reward and labelled with its error type
        (:mod:`fg_env.render`). ``"human"`` prints each step as it happens and returns None here.

        Example:
            >>> import gymnasium as gym, fg_env
            >>> env = gym.make("FineGrainedQA-v0", render_mode="html")
            >>> _ = env.reset(seed=0)
            >>> _ = env.step("The sky is green.")
            >>> page = env.render()
            >>> page.startswith("<!DOCTYPE html>"), page.count('class="fg-seg"')
            (True, 2)
        """
        if self.render_mode == "ansi":
            return self._render_text([])
        if self.render_mode == "html":
            body = answer_html(self._render_question(), self._response, self._rendered_segments)
            return html_page(f"{self.env_name}: {self.example.id}", body)
        return None

    def _render_text(self, scored: list[ScoredSegment]) -> str:
        lines = [f"Q: {self._render_question()}", f"A: {self._response}"]
        lines += [f"  [{s.component:>12} {s.value:+.2f}{' ' + s.label if s.label else ''}] {s.text}" for s in scored]
        return "\n".join(lines)


def core_env(env: gym.Env) -> FineGrainedEnv[Any]:
    """The :class:`FineGrainedEnv` under ``env``'s wrappers (its example, its answer so far).

    Example:
        >>> import gymnasium as gym, fg_env
        >>> from fg_env.wrappers import LinearScalarization
        >>> core_env(LinearScalarization(gym.make("FineGrainedQA-v0"))).reward_names
        ('relevance', 'factuality', 'completeness')
    """
    core = env.unwrapped
    if not isinstance(core, FineGrainedEnv):
        raise InvalidTypeError(
            f"expected an environment built on fg_env.envs.core.FineGrainedEnv (under any wrappers), "
            f"got {type(core).__name__}"
        )
    return core
