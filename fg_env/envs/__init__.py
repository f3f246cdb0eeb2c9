"""Environments of fg_env, registered with Gymnasium when ``fg_env`` is imported.

:class:`~fg_env.envs.core.FineGrainedEnv` is the core every environment is built on (text actions to
scored segments and a reward vector); :class:`~fg_env.envs.qa.FineGrainedQAEnv` is FineGrainedQA-v0.
"""

from gymnasium.envs.registration import register, registry

from fg_env.envs.core import FineGrainedEnv
from fg_env.envs.qa import FineGrainedQAEnv

__all__ = ["FineGrainedEnv", "FineGrainedQAEnv", "register_envs"]


def register_envs() -> None:
    """Register FineGrainedQA-v0 and FineGrainedDetox-v0 (idempotent)."""
    if "FineGrainedQA-v0" not in registry:
        # A vector reward is MO-Gymnasium's convention; Gymnasium's passive checker would warn on
        # every step that the reward is not a float, so it is off here as in MO-Gymnasium's `make`.
        register(
            id="FineGrainedQA-v0",
            entry_point="fg_env.envs.qa:FineGrainedQAEnv",
            vector_entry_point="fg_env.envs.vector:FineGrainedQAVectorEnv",
            disable_env_checker=True,
        )
    if "FineGrainedDetox-v0" not in registry:
        register(
            id="FineGrainedDetox-v0",
            entry_point="fg_env.envs.detox:FineGrainedDetoxEnv",
            vector_entry_point="fg_env.envs.detox:FineGrainedDetoxVectorEnv",
            disable_env_checker=True,
        )
