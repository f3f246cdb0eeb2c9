"""Learned fine-grained reward models: Hugging Face encoders trained from span-level feedback.

``load_reward_model(folder)`` loads what ``fg-env rm train --out folder`` saved; the environment does it
for any folder given in ``reward_models``. Importing this package is cheap: torch and transformers load
only when a model does.

Example (a folder made by ``fg-env rm train --out DIR``; here a tiny random encoder, one epoch):

    >>> import tempfile, gymnasium as gym, fg_env
    >>> from fg_env.rewards.learned.testing import tiny_backbone
    >>> from fg_env.rewards.learned.config import TrainingConfig
    >>> from fg_env.rewards.learned.data import load_feedback_data
    >>> from fg_env.rewards.learned.train import train_reward_model
    >>> folder = tempfile.mkdtemp()
    >>> config = TrainingConfig("relevance", backbone=tiny_backbone(tempfile.mkdtemp()), epochs=1)
    >>> _ = train_reward_model(config, load_feedback_data("relevance", "synthetic", questions="0:4"), folder, progress=False)
    >>> env = gym.make("FineGrainedQA-v0", reward_models=[folder, "factuality"])
    >>> env.unwrapped.reward_names
    ('relevance', 'factuality')
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from fg_env.rewards.learned.components import COMPONENTS, ComponentSpec

if TYPE_CHECKING:  # pragma: no cover
    from fg_env.rewards.learned.model import LearnedRewardModel

__all__ = ["COMPONENTS", "ComponentSpec", "LearnedRewardModel", "load_reward_model"]


def load_reward_model(path: str | Path, **kwargs: Any) -> LearnedRewardModel:
    """Load a learned reward model from a checkpoint folder (``name=``, ``output=``, ``batch_size=``, ``device=``)."""
    from fg_env.rewards.learned.model import load_reward_model as _load

    return _load(path, **kwargs)


def __getattr__(name: str) -> Any:
    if name == "LearnedRewardModel":
        from fg_env.rewards.learned.model import LearnedRewardModel

        return LearnedRewardModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
