"""What a reward vector's entries are, carried through the environment and a stack of wrappers.

Every vector-valued layer (an environment of :mod:`fg_env.envs`, :class:`~fg_env.wrappers.RewardDensity`,
:class:`~fg_env.wrappers.SelectRewards`) exposes ``reward_components``: one :class:`RewardComponent`
per entry of the reward it returns, in order. A wrapper reads its inner layer's components with
:func:`reward_components` and states its own, so the facts a wrapper needs (names, granularities,
bounds, default weights) are always those of the vector it actually receives, in whatever order the
wrappers are stacked. ``reward_names``, ``reward_granularities``, ``default_weights`` and
``reward_space`` are derived from them (:class:`RewardVectorFacts`).

Scalarising wrappers (:class:`~fg_env.wrappers.LinearScalarization`,
:class:`~fg_env.wrappers.HolisticReward`) end the vector: they expose ``segment_weights``, the weight
of each component's segments in the scalar they return, which token-level agents read.

These types live here, below both ``envs`` and ``wrappers``, because both state them: the environment
for the vector its reward models give, each wrapper for the vector it returns.

Example:
    >>> from fg_env.types import Granularity
    >>> relevance = RewardComponent("relevance", Granularity.SUB_SENTENCE, (-1.0, 1.0), 0.3)
    >>> relevance.step_bounds  # one step can hold any number of sub-sentences
    (-inf, inf)
    >>> relevance.coarsened(Granularity.EPISODE, "mean").step_bounds  # one mean per answer
    (-1.0, 1.0)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from fg_env.errors import InvalidTypeError, InvalidValueError
from fg_env.types import Granularity

__all__ = [
    "Reduction",
    "RewardComponent",
    "RewardVectorFacts",
    "check_weights",
    "is_scalarised",
    "recorded",
    "reward_components",
    "weights_by_name",
]

Reduction = Literal["sum", "min", "mean"]

# Coarser granularities hold finer ones: a sentence holds sub-sentences, an answer holds sentences.
_ORDER = {Granularity.SUB_SENTENCE: 0, Granularity.SENTENCE: 1, Granularity.EPISODE: 2}


@dataclass(frozen=True)
class RewardComponent:
    """One entry of a reward vector: its name, the granularity of its segments, the bounds of one
    segment's value, and its default weight (the paper's, for the paper's reward models).

    Example:
        >>> c = RewardComponent("completeness", Granularity.EPISODE, (0.0, 1.0), 0.3)
        >>> c.step_bounds
        (0.0, 1.0)
    """

    name: str
    granularity: Granularity
    segment_bounds: tuple[float, float]
    default_weight: float

    @property
    def step_bounds(self) -> tuple[float, float]:
        """Bounds of this entry in one step's reward: a segment-level entry sums however many segments
        one action holds, so only its sign is bounded; an episode-level entry is one segment."""
        low, high = self.segment_bounds
        if self.granularity is Granularity.EPISODE:
            return low, high
        return (-math.inf if low < 0 else 0.0), (math.inf if high > 0 else 0.0)

    def is_finer_than(self, granularity: Granularity) -> bool:
        return _ORDER[self.granularity] < _ORDER[Granularity(granularity)]

    def coarsened(self, granularity: Granularity, reduce: Reduction) -> RewardComponent:
        """This component once its segments are merged into ``granularity`` segments by ``reduce``.

        A min or mean of segment values stays within one segment's bounds; a sum of any number of
        them is bounded by sign only.
        """
        bounds = self.segment_bounds
        if reduce == "sum":
            low, high = bounds
            bounds = ((-math.inf if low < 0 else 0.0), (math.inf if high > 0 else 0.0))
        return replace(self, granularity=Granularity(granularity), segment_bounds=bounds)


class RewardVectorFacts:
    """Mixin for a vector-valued layer: derives the MO-Gymnasium attributes from
    ``self.reward_components``.

    Example:
        >>> class Layer(RewardVectorFacts):
        ...     reward_components = (RewardComponent("a", Granularity.EPISODE, (0.0, 2.0), 1.0),)
        >>> Layer().reward_names, Layer().reward_space.high.tolist()
        (('a',), [2.0])
    """

    reward_components: tuple[RewardComponent, ...]

    @property
    def reward_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.reward_components)

    @property
    def reward_granularities(self) -> tuple[Granularity, ...]:
        return tuple(c.granularity for c in self.reward_components)

    @property
    def default_weights(self) -> np.ndarray:
        return np.array([c.default_weight for c in self.reward_components], dtype=np.float32)

    @property
    def reward_space(self) -> spaces.Box:
        low, high = zip(*(c.step_bounds for c in self.reward_components))
        return spaces.Box(np.array(low, dtype=np.float32), np.array(high, dtype=np.float32), dtype=np.float32)


def is_scalarised(env: gym.Env) -> bool:
    """Whether some layer of ``env`` already turns the reward vector into a scalar."""
    try:
        env.get_wrapper_attr("segment_weights")
    except AttributeError:
        return False
    return True


def reward_components(env: gym.Env, wrapper: str) -> tuple[RewardComponent, ...]:
    """The components of the reward vector ``env`` returns; a clear error if it returns a scalar.

    ``wrapper`` names the wrapper asking, for the message.
    """
    if is_scalarised(env):
        raise InvalidTypeError(
            f"{wrapper} needs a reward vector, but the environment it wraps already returns a scalar "
            "(LinearScalarization or HolisticReward): apply the scalarising wrapper last"
        )
    return tuple(env.get_wrapper_attr("reward_components"))


def check_weights(weights: Sequence[float] | np.ndarray | None, components: Sequence[RewardComponent]) -> np.ndarray:
    """One finite weight per component, as float32; ``None`` gives the components' default weights."""
    if weights is None:
        return np.array([c.default_weight for c in components], dtype=np.float32)
    array = np.asarray(weights, dtype=np.float32)
    names = [c.name for c in components]
    if array.shape != (len(names),):
        raise InvalidValueError(
            f"weights need one value per reward model {names}: expected shape ({len(names)},), got {array.shape}"
        )
    if not np.all(np.isfinite(array)):
        raise InvalidValueError(f"weights must be finite numbers, got {array.tolist()}")
    return array


def weights_by_name(components: Sequence[RewardComponent], weights: np.ndarray) -> Mapping[str, float]:
    return {c.name: float(w) for c, w in zip(components, weights.tolist())}


def recorded(value: Any) -> Any:
    """A constructor argument as recorded in the spec: arrays become lists, so specs print and compare."""
    return value.tolist() if isinstance(value, np.ndarray) else value
