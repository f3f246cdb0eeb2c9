"""Find reward models by name, by path, or through the ``fg_env.reward_models`` entry-point group.

Third-party packages plug a reward model in by declaring, in their ``pyproject.toml``::

    [project.entry-points."fg_env.reward_models"]
    my-model = "my_package.rewards:MyRewardModel"   # a RewardModel subclass or a factory

and then ``gym.make("FineGrainedQA-v0", reward_models=["relevance", "my-model"])`` finds it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

from fg_env.errors import InvalidTypeError, UnknownChoiceError
from fg_env.rewards.base import RewardModel, validate_reward_model

ENTRY_POINT_GROUP = "fg_env.reward_models"

_FACTORIES: dict[str, Callable[..., RewardModel]] = {}


def register_reward_model(name: str, factory: Callable[..., RewardModel]) -> None:
    """Make ``make_reward_model(name)`` call ``factory(**kwargs)``."""
    _FACTORIES[name] = factory


def _entry_point_factories() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def available_reward_models() -> list[str]:
    """Names that :func:`make_reward_model` accepts: built-in and installed plug-ins."""
    return sorted(set(_FACTORIES) | set(_entry_point_factories()))


def make_reward_model(spec: str | os.PathLike[str] | RewardModel, **kwargs: Any) -> RewardModel:
    """A reward model from a name, a saved model's folder, or an existing :class:`RewardModel`.

    Example:
        >>> make_reward_model("factuality").granularity.value
        'sentence'
    """
    if isinstance(spec, RewardModel):
        return validate_reward_model(spec)
    if isinstance(spec, (str, os.PathLike)):
        name = os.fspath(spec)
        if name in _FACTORIES:
            return validate_reward_model(_FACTORIES[name](**kwargs))
        plugins = _entry_point_factories()
        if name in plugins:
            factory = plugins[name].load()
            return validate_reward_model(factory(**kwargs))
        if Path(name).is_dir():
            from fg_env.rewards.learned import load_reward_model  # heavy (torch): imported on demand

            return validate_reward_model(load_reward_model(name, **kwargs))
        raise UnknownChoiceError(
            "reward model", name, available_reward_models() + ["<folder of a saved learned reward model>"]
        )
    raise InvalidTypeError(f"a reward model is a name, a folder or a RewardModel, not {type(spec).__name__}")
