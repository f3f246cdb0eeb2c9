"""Where one fine-grained PPO iteration spends its time, and how many tokens it trains per second.

Runs a few iterations of the trainer at the default scale of ``fg-env compare`` on the built-in world
and splits each iteration into:

* generation: one KV-cached ``generate`` call for all answers of the batch;
* environment: replaying every answer sentence by sentence through ``env.step`` (segmentation and the
  annotator-backed reward models) and placing the token rewards; target <= 10% of the iteration;
* update, forward: the no-grad passes of policy, critic and frozen reference over the batch;
* update, optimise: ``ppo_epochs`` epochs of minibatch forward and backward passes.

Throughput: trained tokens (response tokens that receive a loss) per second of the whole iteration, and
tokens processed per second by the optimisation (trained tokens x epochs / optimise time).

Usage::

    python benchmarks/ppo_iteration.py                 # default SFT policy (built and cached if needed)
    python benchmarks/ppo_iteration.py --quick         # quick SFT policy, fewer iterations
    python benchmarks/ppo_iteration.py --policy DIR --iterations 3 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.algorithms.ppo import FineGrainedPPO  # noqa: E402
from agents.experiments.run import make_env  # noqa: E402
from agents.experiments.settings import PRESETS  # noqa: E402
from fg_env.rewards.versions import SCORED_BY, scored_by  # noqa: E402

PHASES = ("time_generate", "time_env", "time_update_forward", "time_update_optimise")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", help="saved policy folder (default: the cached default SFT policy)")
    parser.add_argument("--quick", action="store_true", help="quick SFT policy and the quick scale")
    parser.add_argument("--scheme", default="fine-grained")
    parser.add_argument("--iterations", type=int, default=4, help="iterations to time (the first is a warm-up)")
    parser.add_argument("--json", help="also write the numbers here")
    args = parser.parse_args()

    from agents.policies.policy import LMPolicy

    experiment = PRESETS["quick" if args.quick else "default"].config(training={"iterations": args.iterations})
    if args.policy:
        path = Path(args.policy)
    else:
        from agents.policies.sft import build_default_policy

        path = Path(build_default_policy(quick=experiment.sft == "quick"))
    policy = LMPolicy.from_pretrained(path)
    config = experiment.training
    env = make_env(args.scheme, None, "train", experiment.evaluation.max_sentences)
    trainer = FineGrainedPPO(policy, env, config)
    rows = [trainer.train_iteration() for _ in range(args.iterations)]
    timed = rows[1:] if len(rows) > 1 else rows  # the first iteration pays one-off costs (allocations, caches)

    total = float(np.mean([r["time_iteration"] for r in timed]))
    split = {phase: float(np.mean([r[phase] for r in timed])) for phase in PHASES}
    tokens = float(np.mean([r["trained_tokens"] for r in timed]))
    result = {
        SCORED_BY: scored_by(env),  # the env share times this annotator
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
                   f"{torch.get_num_threads()} threads",
        "policy": str(path),
        "parameters": sum(p.numel() for p in policy.model.parameters()),
        "scheme": args.scheme,
        "episodes_per_iteration": config.episodes_per_iteration,
        "ppo_epochs": config.ppo_epochs,
        "iterations_timed": len(timed),
        "seconds_per_iteration": total,
        "seconds": split,
        "share": {phase: split[phase] / total for phase in PHASES},
        "trained_tokens_per_iteration": tokens,
        "trained_tokens_per_second": tokens / total,
        "optimiser_tokens_per_second": tokens * config.ppo_epochs / split["time_update_optimise"],
        "env_share_target": 0.10,
    }
    result["env_share_within_target"] = result["share"]["time_env"] <= result["env_share_target"]

    print(f"policy {path} ({result['parameters'] / 1e6:.2f}M parameters), {config.episodes_per_iteration} episodes per iteration")
    print(f"{'phase':<24}{'seconds':>10}{'share':>9}")
    for phase in PHASES:
        print(f"{phase.removeprefix('time_'):<24}{split[phase]:>10.3f}{result['share'][phase]:>9.1%}")
    print(f"{'iteration':<24}{total:>10.3f}{1:>9.0%}")
    print(f"trained tokens per iteration {tokens:.0f}; per second of iteration {result['trained_tokens_per_second']:.0f}; "
          f"optimiser tokens/s {result['optimiser_tokens_per_second']:.0f}")
    print(f"environment + reward scoring share {result['share']['time_env']:.1%} "
          f"({'within' if result['env_share_within_target'] else 'OVER'} the 10% target)")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
