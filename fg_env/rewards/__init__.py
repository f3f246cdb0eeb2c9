"""Reward models: the contract, the registry, and the built-in annotator-backed models.

Learned (encoder) reward models live in :mod:`fg_env.rewards.learned` and load by folder.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fg_env.rewards.base import RewardModel, ScoringRequest, SegmentScore, validate_reward_model
from fg_env.rewards.defaults import DEFAULT_REWARD_MODELS, PAPER_WEIGHTS
from fg_env.rewards.registry import (
    ENTRY_POINT_GROUP,
    available_reward_models,
    make_reward_model,
    register_reward_model,
)
from fg_env.rewards.versions import reward_versions, scored_by

__all__ = [
    "DEFAULT_REWARD_MODELS",
    "PAPER_WEIGHTS",
    "ENTRY_POINT_GROUP",
    "RewardModel",
    "ScoringRequest",
    "SegmentScore",
    "available_reward_models",
    "make_reward_model",
    "register_reward_model",
    "reward_versions",
    "scored_by",
    "validate_reward_model",
]


def _annotator_model(name: str) -> Callable[..., RewardModel]:
    """A factory that imports the annotator (and the built-in world) only when the model is built."""

    def factory(**kwargs: Any) -> RewardModel:
        from fg_env.rewards import annotator_models

        return annotator_models.ANNOTATOR_REWARD_MODELS[name](**kwargs)

    return factory


for _name in DEFAULT_REWARD_MODELS:
    register_reward_model(_name, _annotator_model(_name))


def _toxicity_model(name: str) -> Any:
    def factory(**kwargs: Any) -> RewardModel:
        from fg_env.rewards.toxicity import reward  # the scorers load only when a toxicity model is made

        return {"toxicity": reward.ToxicityChange, "non-toxicity": reward.ContinuationToxicity}[name](**kwargs)

    return factory


for _name in ("toxicity", "non-toxicity"):  # FineGrainedDetox-v0's dense reward and its holistic form
    register_reward_model(_name, _toxicity_model(_name))
