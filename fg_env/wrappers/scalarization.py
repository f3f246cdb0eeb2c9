"""Scalarising wrappers: one float per step, for agents that learn from a scalar reward.

Both keep the reward vector in ``info["vector_reward"]`` (MO-Gymnasium's key) and expose
``segment_weights``: the weight of each segment component in the scalar, which is also written on
every segment of ``info["segments"]``, so a token-level agent that puts ``weight * value`` on each
segment's last token trains on exactly this reward.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, SupportsFloat, cast

import gymnasium as gym
import numpy as np

from fg_env.envs.core import core_env
from fg_env.errors import InvalidValueError
from fg_env.rewards.base import RewardModel, ScoringRequest, check_scores
from fg_env.rewards.registry import make_reward_model
from fg_env.rewards.vector import check_weights, recorded, reward_components, weights_by_name
from fg_env.segments import ScoredSegment, SegmentInfo
from fg_env.types import Action, Granularity, Observation, Span

__all__ = ["HolisticReward", "LinearScalarization", "answer_span"]


def answer_span(response: str) -> Span:
    """The answer without its surrounding whitespace (what an episode-level segment covers)."""
    start = len(response) - len(response.lstrip())
    return Span(start, max(start, len(response.rstrip())))


class LinearScalarization(gym.Wrapper[Observation, Action, Observation, Action], gym.utils.RecordConstructorArgs):
    """Return ``weights · reward_vector`` as a Python float; keep the vector in ``info["vector_reward"]``.

    The info keys are MO-Gymnasium's (``vector_reward``, ``reward_weights``). Default weights are the
    inner vector's ``default_weights`` (the paper's for the paper's reward models). Each segment in
    ``info["segments"]`` gets its component's ``weight``.

    Example:
        >>> import gymnasium as gym, fg_env
        >>> env = LinearScalarization(gym.make("FineGrainedQA-v0"), weights=[0.3, 0.5, 0.3])
        >>> _, info = env.reset(seed=0)
        >>> _, reward, *_ = env.step(info["references"][0])
        >>> type(reward).__name__, env.segment_weights["factuality"]
        ('float', 0.5)
        >>> gym.make(env.spec).segment_weights == env.segment_weights  # rebuilt from its spec
        True

    Change logs:
        * v0.1.0 - Initially added.
        * v0.2.0 - Typed; records its arguments (``gym.make(env.spec)`` rebuilds the stack); exposes
          ``segment_weights``; refuses an inner env that already returns a scalar.
    """

    def __init__(self, env: gym.Env[Observation, Action], weights: Sequence[float] | np.ndarray | None = None) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, weights=recorded(weights))
        gym.Wrapper.__init__(self, env)
        components = reward_components(env, "LinearScalarization")
        self.weights = check_weights(weights, components)
        self.segment_weights: Mapping[str, float] = weights_by_name(components, self.weights)

    def step(self, action: Action) -> tuple[Observation, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, vector, terminated, truncated, info = self.env.step(action)
        info["vector_reward"] = vector
        info["reward_weights"] = self.weights
        # A plain dict merge: this runs for every segment of every step.
        info["segments"] = [
            cast(SegmentInfo, {**s, "weight": self.segment_weights.get(s["component"], 0.0)}) for s in info["segments"]
        ]
        return obs, float(np.dot(np.asarray(vector), self.weights)), terminated, truncated, info


class HolisticReward(gym.Wrapper[Observation, Action, Observation, Action], gym.utils.RecordConstructorArgs):
    """One scalar for the whole answer, given on the step that ends it; 0.0 on every other step.

    By default the scalar is the weighted sum of the episode's fine-grained rewards (the same return
    as :class:`LinearScalarization`, delivered at the end). With ``reward_model`` (an episode-level
    model, a name or a saved model's folder) the scalar is that model's score of the final answer, as
    the paper's preference-model baseline. The fine-grained segments move to
    ``info["fine_grained_segments"]``; ``info["segments"]`` holds the one holistic segment at the end.

    Example:
        >>> import gymnasium as gym, fg_env
        >>> env = HolisticReward(gym.make("FineGrainedQA-v0"))
        >>> _, info = env.reset(seed=0)
        >>> env.step(info["references"][0])[1], env.segment_weights
        (0.0, {'holistic': 1.0})

    Change logs:
        * v0.1.0 - Initially added.
        * v0.2.0 - Typed; records its arguments; exposes ``segment_weights``; refuses an inner env that
          already returns a scalar.
    """

    def __init__(
        self,
        env: gym.Env[Observation, Action],
        weights: Sequence[float] | np.ndarray | None = None,
        reward_model: str | RewardModel | None = None,
    ) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, weights=recorded(weights), reward_model=reward_model)
        gym.Wrapper.__init__(self, env)
        self.weights = check_weights(weights, reward_components(env, "HolisticReward"))
        self.reward_model = None if reward_model is None else make_reward_model(reward_model)
        if self.reward_model is not None and Granularity(self.reward_model.granularity) is not Granularity.EPISODE:
            raise InvalidValueError(
                f"a holistic reward model must judge whole answers; {self.reward_model.name!r} is "
                f"{self.reward_model.granularity}-level"
            )
        if self.reward_model is not None:
            # As the environment checks its own models: one that cannot read these examples fails here.
            self.reward_model.check_example(core_env(env).examples[0])
        self.component = "holistic" if self.reward_model is None else self.reward_model.name
        self.segment_weights: Mapping[str, float] = {self.component: 1.0}
        self._episode_return = np.zeros_like(self.weights)

    def reset(self, **kwargs: Any) -> tuple[Observation, dict[str, Any]]:
        self._episode_return = np.zeros_like(self.weights)
        return self.env.reset(**kwargs)

    def step(self, action: Action) -> tuple[Observation, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, vector, terminated, truncated, info = self.env.step(action)
        self._episode_return += np.asarray(vector)
        info["vector_reward"] = vector
        info["fine_grained_segments"] = info["segments"]
        info["segments"] = []
        if not (terminated or truncated):
            return obs, 0.0, terminated, truncated, info
        segment = self._score_answer()
        info["segments"] = [segment.to_info()]
        return obs, segment.value, terminated, truncated, info

    def _score_answer(self) -> ScoredSegment:
        """The holistic segment: the whole answer, valued by the weighted return or the reward model."""
        env = core_env(self)
        response = env.response
        span = answer_span(response)
        label = None
        if self.reward_model is None:
            value = float(np.dot(self._episode_return, self.weights))
        else:
            request = ScoringRequest(env.example, response[: span.end], span)
            (score,) = scores = self.reward_model.score([request])
            check_scores(self.reward_model, [request], scores)
            value, label = float(score.value), score.label
        return ScoredSegment(
            self.component,
            Granularity.EPISODE.value,
            span.start,
            span.end,
            span.slice(response),
            value,
            label,
            weight=1.0,
        )
