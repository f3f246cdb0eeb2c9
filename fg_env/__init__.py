"""fg_env: fine-grained reward environments for language-model RL.

Importing the package registers ``FineGrainedQA-v0`` with Gymnasium:

    >>> import gymnasium as gym
    >>> import fg_env
    >>> env = gym.make("FineGrainedQA-v0")
"""

from fg_env.envs import FineGrainedQAEnv, register_envs

__version__ = "0.2.0"
__all__ = ["FineGrainedQAEnv", "__version__"]

register_envs()
