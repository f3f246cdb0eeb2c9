"""Agents that act in fg_env: the LM policy, its SFT warm start, rollouts, fine-grained PPO and baselines.

``agents`` imports ``fg_env``; ``fg_env`` never imports ``agents``. Import the submodules directly
(``from agents.policies.policy import LMPolicy``); this package keeps its import cheap.
"""
