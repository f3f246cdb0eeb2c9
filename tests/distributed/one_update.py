"""One PPO update on fixed rollouts, in however many processes launched it (run by tests/test_distributed.py).

Every process builds the same global rollouts (a saved tiny policy's answers to four questions, two
answers each), keeps its share of the groups, and takes one update: one epoch, one minibatch holding the
whole global batch. The main process saves the parameters to ``OUT``. Under ``accelerate launch
--num_processes 2`` the result must equal that of one process on the same global batch.

Usage: python tests/distributed/one_update.py POLICY_DIR OUT
"""

from __future__ import annotations

import sys

import gymnasium as gym
import torch

import fg_env  # noqa: F401 - registers the environment
from agents.algorithms.distributed import current_processes
from agents.policies.policy import LMPolicy
from agents.algorithms.lm_rl import build_rollouts
from agents.algorithms.ppo import FineGrainedPPO, PPOConfig
from agents.algorithms.rollout import replay, token_rewards
from agents.experiments.schemes import get_scheme

PROMPTS, SAMPLES = 4, 2


def main(policy_dir: str, out: str) -> None:
    processes = current_processes()
    config = PPOConfig(
        iterations=1, prompts_per_iteration=PROMPTS, samples_per_prompt=SAMPLES, minibatch_size=PROMPTS * SAMPLES,
        ppo_epochs=1, max_new_tokens=16, seed=0, learning_rate=1e-2, warmup_steps=0,
    )
    env = get_scheme("fine-grained").wrap(gym.make("FineGrainedQA-v0", max_sentences=3))
    policy = LMPolicy.from_pretrained(policy_dir)
    examples = env.unwrapped.examples
    generations = policy.generate([examples[i].prompt for i in range(PROMPTS)], max_new_tokens=16, seed=0,
                                  num_return_sequences=SAMPLES)
    records = [replay(env, g, index=k // SAMPLES) for k, g in enumerate(generations)]
    share = PROMPTS // processes.count
    rows = slice(processes.index * share * SAMPLES, (processes.index + 1) * share * SAMPLES)
    rollouts = build_rollouts(generations[rows], records[rows], [token_rewards(r) for r in records[rows]], SAMPLES,
                              policy.pad_token_id)
    trainer = FineGrainedPPO(policy, env, config, processes=processes)
    stats = trainer.update(rollouts)
    if processes.is_main:
        torch.save({"parameters": {k: v.detach().clone() for k, v in trainer.actor_critic.state_dict().items()},
                    "kl": stats["kl"], "processes": processes.count}, out)
    processes.wait()


if __name__ == "__main__":
    main(*sys.argv[1:3])
