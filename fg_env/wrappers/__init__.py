"""Reward-shaping wrappers: the one-line ablations of a fine-grained reward.

Each wrapper keeps ``info["segments"]`` consistent with the reward it returns, so an LM agent that
places token rewards from segment spans (the paper's PPO) trains on exactly the shaped reward:

- :class:`LinearScalarization`: weighted sum of the vector, a Python float (Stable-Baselines3 needs one);
- :class:`HolisticReward`: nothing until the answer ends, then one scalar (the paper's baseline);
- :class:`RewardDensity`: coarsen finer rewards to sentence or episode granularity;
- :class:`SelectRewards`: keep a subset of the reward models;
- :class:`CandidateSentences`: a ``Discrete`` menu of candidate sentences and a ``Box`` of their
  features, for standard RL agents (Stable-Baselines3); the reward vector passes through.

Vector-valued layers state ``reward_components`` (:mod:`fg_env.rewards.vector`), from which
``reward_names``, ``reward_space``, ``default_weights`` and ``reward_granularities`` follow; read them
with ``env.get_wrapper_attr("reward_names")``. Scalarising wrappers go last and expose
``segment_weights``. Every wrapper records its arguments, so ``gym.make(env.spec)`` rebuilds a stack.
MO-Gymnasium's own wrappers read ``env.unwrapped``, so use them directly on the environment (or
above wrappers that keep the vector unchanged).

Example:
    >>> import gymnasium as gym, fg_env
    >>> env = LinearScalarization(RewardDensity(SelectRewards(gym.make("FineGrainedQA-v0"),
    ...                                                       ["factuality", "relevance"]), "sentence"))
    >>> env.segment_weights
    {'factuality': 0.5, 'relevance': 0.30000001192092896}
    >>> [w.name for w in env.spec.additional_wrappers]
    ['SelectRewards', 'RewardDensity', 'LinearScalarization']
"""

from fg_env.wrappers.candidates import CandidateSentences, SentenceProposer
from fg_env.wrappers.density import RewardDensity
from fg_env.wrappers.scalarization import HolisticReward, LinearScalarization
from fg_env.wrappers.selection import SelectRewards

__all__ = [
    "CandidateSentences",
    "HolisticReward",
    "LinearScalarization",
    "RewardDensity",
    "SelectRewards",
    "SentenceProposer",
]
