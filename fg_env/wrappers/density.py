"""The density ablation: when feedback arrives."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from fg_env.envs.core import core_env
from fg_env.errors import InvalidValueError, UnknownChoiceError
from fg_env.rewards.vector import Reduction, RewardComponent, RewardVectorFacts, reward_components
from fg_env.segments import ScoredSegment, SegmentInfo
from fg_env.types import Action, Granularity, Observation, Span
from fg_env.wrappers.scalarization import answer_span

__all__ = ["RewardDensity"]

REDUCTIONS: tuple[str, ...] = ("sum", "min", "mean")


class RewardDensity(
    RewardVectorFacts, gym.Wrapper[Observation, Action, Observation, Action], gym.utils.RecordConstructorArgs
):
    """Coarsen rewards finer than ``granularity`` to that granularity (the density ablation).

    With ``granularity="sentence"`` the sub-sentence rewards of each sentence become one reward on the
    sentence; with ``"episode"`` every finer reward is held back and given, as one reward per model, on
    the step that ends the answer. ``reduce="sum"`` (default) keeps each model's return unchanged and
    only delays it, so the ablation isolates *when* feedback arrives; ``"min"`` marks a coarse segment
    with its worst piece (an error anywhere makes it -1) and ``"mean"`` averages.

    Which entries are coarsened, and their bounds, come from the inner layer's ``reward_components``,
    so the wrapper is right above any other (a subset or reordering by :class:`SelectRewards`, another
    density).

    Example:
        >>> import gymnasium as gym, fg_env
        >>> env = RewardDensity(gym.make("FineGrainedQA-v0"), "episode")
        >>> _, info = env.reset(seed=0)
        >>> _, reward, *_ = env.step("The sky is green.")
        >>> reward.tolist()
        [0.0, 0.0, 0.0]

    Change logs:
        * v0.1.0 - Initially added.
        * v0.2.0 - Reads the inner vector's components (v0.1.0 read the unwrapped env's reward models
          by position, which broke above :class:`SelectRewards`); typed; records its arguments.
    """

    def __init__(
        self, env: gym.Env[Observation, Action], granularity: str | Granularity = "sentence", reduce: Reduction = "sum"
    ) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, granularity=str(Granularity(granularity)), reduce=reduce)
        gym.Wrapper.__init__(self, env)
        self.target = Granularity(granularity)
        if self.target is Granularity.SUB_SENTENCE:
            raise InvalidValueError("density coarsens rewards: granularity must be 'sentence' or 'episode'")
        if reduce not in REDUCTIONS:
            raise UnknownChoiceError("reduction", reduce, REDUCTIONS)
        self.reduce: Reduction = reduce
        inner = reward_components(env, "RewardDensity")
        self._coarsened = np.array([c.is_finer_than(self.target) for c in inner])
        self.reward_components: tuple[RewardComponent, ...] = tuple(
            c.coarsened(self.target, reduce) if coarse else c for c, coarse in zip(inner, self._coarsened)
        )
        self._held: list[list[SegmentInfo]] = [[] for _ in inner]

    def reset(self, **kwargs: Any) -> tuple[Observation, dict[str, Any]]:
        self._held = [[] for _ in self._coarsened]
        return self.env.reset(**kwargs)

    def step(self, action: Action) -> tuple[Observation, np.ndarray, bool, bool, dict[str, Any]]:
        obs, vector, terminated, truncated, info = self.env.step(action)
        response = core_env(self).response  # the observation may be a view's (CandidateSentences)
        vector, mask = np.array(vector, dtype=np.float32), info["reward_mask"].copy()
        coarsened_names = {c.name for c, coarse in zip(self.reward_components, self._coarsened) if coarse}
        kept = [s for s in info["segments"] if s["component"] not in coarsened_names]
        merged: list[SegmentInfo] = []
        for k, component in enumerate(self.reward_components):
            if not self._coarsened[k]:
                continue
            pieces = [s for s in info["segments"] if s["component"] == component.name]
            if self.target is Granularity.SENTENCE:
                sentences = self._merge_per_sentence(pieces, component.name, response)
                merged.extend(sentences)
                vector[k] = sum(s["value"] for s in sentences)
            else:
                self._held[k].extend(pieces)
                vector[k], mask[k] = 0.0, False
                if (terminated or truncated) and self._held[k]:
                    segment = self._merge(self._held[k], answer_span(response), component.name, response)
                    merged.append(segment)
                    vector[k], mask[k] = segment["value"], True
        info["segments"] = kept + merged
        info["reward_mask"] = mask
        return obs, vector.astype(np.float32), terminated, truncated, info

    def _merge_per_sentence(self, pieces: list[SegmentInfo], component: str, response: str) -> list[SegmentInfo]:
        """One segment per sentence (of this step) that holds some of ``pieces``."""
        merged = []
        for sentence in core_env(self).sentences:
            group = [p for p in pieces if sentence.start <= p["start"] and p["end"] <= sentence.end]
            if group:
                merged.append(self._merge(group, sentence, component, response))
        return merged

    def _merge(self, pieces: list[SegmentInfo], span: Span, component: str, response: str) -> SegmentInfo:
        labels = [p["label"] for p in pieces if p["label"]]
        return ScoredSegment(
            component,
            self.target.value,
            span.start,
            span.end,
            span.slice(response),
            self._reduce([p["value"] for p in pieces]),
            labels[0] if labels else None,
        ).to_info()

    def _reduce(self, values: list[float]) -> float:
        if self.reduce == "sum":
            return float(sum(values))
        return float(min(values)) if self.reduce == "min" else float(np.mean(values))
