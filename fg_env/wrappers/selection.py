"""The leave-one-out ablation: which reward models an agent sees."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from fg_env.errors import InvalidValueError, UnknownChoiceError
from fg_env.rewards.vector import RewardComponent, RewardVectorFacts, reward_components
from fg_env.types import Action, Observation

__all__ = ["SelectRewards"]


class SelectRewards(
    RewardVectorFacts, gym.Wrapper[Observation, Action, Observation, Action], gym.utils.RecordConstructorArgs
):
    """Keep only the named reward models (the leave-one-out ablation), in the order given.

    Example:
        >>> import gymnasium as gym, fg_env
        >>> env = SelectRewards(gym.make("FineGrainedQA-v0"), ["factuality", "completeness"])
        >>> env.reward_names, env.default_weights.tolist()
        (('factuality', 'completeness'), [0.5, 0.30000001192092896])

    Change logs:
        * v0.1.0 - Initially added.
        * v0.2.0 - Typed; records its arguments; states its ``reward_components``.
    """

    def __init__(self, env: gym.Env[Observation, Action], names: Sequence[str] | str) -> None:
        names = [names] if isinstance(names, str) else list(names)
        gym.utils.RecordConstructorArgs.__init__(self, names=names)
        gym.Wrapper.__init__(self, env)
        inner = reward_components(env, "SelectRewards")
        available = [c.name for c in inner]
        if not names:
            raise InvalidValueError("SelectRewards needs at least one reward model name")
        for name in names:
            if name not in available:
                raise UnknownChoiceError("reward model", name, available)
        self._index = np.array([available.index(n) for n in names])
        self.reward_components: tuple[RewardComponent, ...] = tuple(inner[i] for i in self._index)

    def step(self, action: Action) -> tuple[Observation, np.ndarray, bool, bool, dict[str, Any]]:
        obs, vector, terminated, truncated, info = self.env.step(action)
        kept = set(self.reward_names)
        info["reward_mask"] = info["reward_mask"][self._index]
        info["segments"] = [s for s in info["segments"] if s["component"] in kept]
        return obs, np.asarray(vector)[self._index].astype(np.float32), terminated, truncated, info
