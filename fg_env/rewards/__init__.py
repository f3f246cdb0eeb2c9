"""Reward models: the contract, the registry, and the built-in annotator-backed models.

Learned (encoder) reward models live in :mod:`fg_env.rewards.learned` and load by folder.
"""

from __future__ import annotations

from typing import Any

from fg_env.rewards.base import RewardModel, ScoringRequest, SegmentScore, validate_reward_model
from fg_env.rewards.registry import (
    ENTRY_POINT_GROUP,
    available_reward_models,
    make_reward_model,
    register_reward_model,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "RewardModel",
    "ScoringRequest",
    "SegmentScore",
    "available_reward_models",
    "make_reward_model",
    "register_reward_model",
    "validate_reward_model",
]


def _annotator_model(name: str):
    def factory(**kwargs: Any) -> RewardModel:
        from fg_env.rewards import annotator_models

        return annotator_models.ANNOTATOR_REWARD_MODELS[name](**kwargs)

    return factory


for _name in ("relevance", "factuality", "completeness"):
    register_reward_model(_name, _annotator_model(_name))
