"""FineGrainedQA-v0: long-form question answering, one sentence per action, a reward vector per step."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from fg_env.data.base import QADataset, make_dataset
from fg_env.errors import InvalidActionError, InvalidValueError, ResetNeededError, UnknownChoiceError
from fg_env.render import answer_html, html_page
from fg_env.rewards.base import RewardModel, ScoringRequest, SegmentScore, check_scores
from fg_env.rewards.defaults import DEFAULT_REWARD_MODELS, PAPER_WEIGHTS
from fg_env.rewards.registry import make_reward_model
from fg_env.segments import ScoredSegment, SegmentInfo
from fg_env.spaces import UnicodeText
from fg_env.text import segments_at, split_sentences
from fg_env.types import Action, Granularity, Observation, QAExample, Span
from fg_env.wrappers.components import RewardComponent, RewardVectorFacts

__all__ = ["FineGrainedQAEnv", "PendingStep", "Prescored", "score_checked"]


@dataclass(frozen=True)
class PendingStep:
    """What an action does to the answer, worked out before anything changes (:meth:`FineGrainedQAEnv.plan`)."""

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
    vector env); the step uses them only if it is the step they were computed for."""

    example: QAExample
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


class FineGrainedQAEnv(RewardVectorFacts, gym.Env[Observation, Action]):
    """Answer a long-form question one sentence at a time; get one reward per fine-grained reward model.

    Each ``step(sentence)`` appends the sentence to the answer and returns an unweighted ``float32``
    reward vector with one entry per reward model (MO-Gymnasium's convention; ``reward_space``,
    ``reward_names`` and the paper's ``default_weights`` are on the unwrapped env). Segment-level
    models score each new sub-sentence or sentence right away; episode-level models score the final
    answer on the step that ends it. ``info["segments"]`` lists every scored segment with its
    character span in the response and ``info["reward_mask"]`` tells "not scored this step" from 0.

    Args:
        dataset: ``"synthetic"`` (the built-in world, default), ``"qa-feedback"`` (needs ``data_dir``),
            or a :class:`~fg_env.data.base.QADataset`.
        split: which split questions are drawn from.
        reward_models: names, folders of saved learned models, or :class:`RewardModel` objects.
        max_sentences: the episode is truncated once the answer holds this many sentences.
        data_dir: folder of the dataset's files (QA-Feedback).
        dataset_kwargs: further arguments of the dataset (e.g. ``{"seed": 1}`` for the built-in world).

    Example:
        >>> import gymnasium as gym, fg_env
        >>> env = gym.make("FineGrainedQA-v0")
        >>> obs, info = env.reset(seed=0)
        >>> obs, reward, terminated, truncated, info = env.step(info["references"][0])
        >>> env.unwrapped.reward_names
        ('relevance', 'factuality', 'completeness')
        >>> reward.shape, reward.dtype.name
        ((3,), 'float32')
    """

    metadata = {"render_modes": ["ansi", "human", "html"]}

    def __init__(
        self,
        dataset: str | QADataset = "synthetic",
        split: str = "train",
        reward_models: Sequence[str | RewardModel] = DEFAULT_REWARD_MODELS,
        max_sentences: int = 10,
        data_dir: str | None = None,
        dataset_kwargs: dict[str, Any] | None = None,
        render_mode: str | None = None,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise UnknownChoiceError("render mode", render_mode, self.metadata["render_modes"])
        if not isinstance(max_sentences, int) or max_sentences < 1:
            raise InvalidValueError(f"max_sentences must be a positive integer, got {max_sentences!r}")
        kwargs = dict(dataset_kwargs or {})
        if data_dir is not None:
            kwargs["data_dir"] = data_dir
        self.dataset = make_dataset(dataset, **kwargs)
        self.split = split
        self.examples: Sequence[QAExample] = self.dataset.split(split)
        if len(self.examples) == 0:
            raise InvalidValueError(f"split {split!r} of dataset {self.dataset.name!r} holds no questions")
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
                PAPER_WEIGHTS.get(m.name, 1.0),
            )
            for m in self.reward_models
        )
        self.observation_space = cast(
            spaces.Space[Observation],
            spaces.Dict({"question": UnicodeText(), "passages": UnicodeText(), "response": UnicodeText()}),
        )
        self.action_space = UnicodeText()

        self._example: QAExample | None = None
        self._response = ""
        self._sentences: list[Span] = []
        self._done = True
        self._prescored: Prescored | None = None
        # The episode's scored segments, kept for render_mode="html" only (other modes pay nothing).
        self._rendered_segments: list[SegmentInfo] = []

    # ----------------------------------------------------------------------------------- episode

    @property
    def example(self) -> QAExample:
        """The question of the current episode."""
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
        """Start a new answer to a question drawn from the split.

        ``options={"index": i}`` or ``options={"example_id": "..."}`` picks the question instead.
        """
        super().reset(seed=seed)
        self._example = self._pick_example(options or {})
        self._response = ""
        self._sentences = []
        self._done = False
        self._prescored = None
        self._rendered_segments = []
        info = {
            "prompt": self._example.prompt,
            "references": list(self._example.references),
            "example_id": self._example.id,
        }
        return self._observation(), info

    def _pick_example(self, options: dict[str, Any]) -> QAExample:
        unknown = set(options) - {"index", "example_id"}
        if unknown:
            raise InvalidValueError(f"unknown reset options {sorted(unknown)}; valid: 'index', 'example_id'")
        if "index" in options:
            index = options["index"]
            if not isinstance(index, (int, np.integer)) or not 0 <= index < len(self.examples):
                raise IndexError(
                    f"reset option index={index!r} is outside split {self.split!r} (0..{len(self.examples) - 1})"
                )
            return self.examples[int(index)]
        if "example_id" in options:
            return self._example_by_id(options["example_id"])
        return self.examples[int(self.np_random.integers(len(self.examples)))]

    def _example_by_id(self, example_id: str) -> QAExample:
        if not hasattr(self, "_index_by_id"):
            self._index_by_id = {ex.id: i for i, ex in enumerate(self.examples)}
        if example_id not in self._index_by_id:
            raise KeyError(f"no question with id {example_id!r} in split {self.split!r} of {self.dataset.name!r}")
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
        # The same question, the very answer object the plan was made from, and the same action: the
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

    def _observation(self) -> Observation:
        example = self.example
        return {"question": example.question, "passages": example.context, "response": self._response}

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
            example = self.example
            body = answer_html(example.question, self._response, self._rendered_segments)
            return html_page(f"FineGrainedQA-v0: {example.id}", body)
        return None

    def _render_text(self, scored: list[ScoredSegment]) -> str:
        lines = [f"Q: {self.example.question}", f"A: {self._response}"]
        lines += [f"  [{s.component:>12} {s.value:+.2f}{' ' + s.label if s.label else ''}] {s.text}" for s in scored]
        return "\n".join(lines)
