"""Reinforcement-learning algorithms for language-model policies: PPO with fine-grained token rewards
(:mod:`.ppo`), rollouts that place each segment's reward on its last token (:mod:`.rollout`), data-parallel
processes (:mod:`.distributed`) and model setup (precision, LoRA, memory checks: :mod:`.model_setup`).
Imports :mod:`agents.policies` only."""
