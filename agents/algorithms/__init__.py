"""Reinforcement-learning algorithms for language-model policies: trainers found by name (:mod:`.registry`),
PPO with fine-grained token rewards (:mod:`.ppo`, the first of them), the pieces every LM trainer shares
(:mod:`.lm_rl`: prompt-grouped batches, log-probs, whitening, rollouts), rollouts that place each segment's
reward on its last token (:mod:`.rollout`), data-parallel processes (:mod:`.distributed`) and model setup
(precision, LoRA, memory checks: :mod:`.model_setup`). Imports :mod:`agents.policies` only."""
