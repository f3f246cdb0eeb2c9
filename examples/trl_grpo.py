"""GRPO with TRL on fg_env's fine-grained reward models: one TRL reward function per reward model.

    python examples/trl_grpo.py [--policy PATH] [--steps 6] [--questions 8] [--num-generations 4]
                                [--normalize-per-component]

Trains a policy with TRL's ``GRPOTrainer`` for a few steps and prints, after each, the mean episode
return of each reward model (relevance, factuality, completeness) and the weighted reward TRL
optimises. Without ``--policy`` it uses the tiny random GPT-2 of the tests: the plumbing runs in seconds, but
its answers are noise without sentence ends, so nearly every one earns the same returns and GRPO's
group advantages are zero. ``--policy`` takes any local Hugging Face causal LM folder with a fast
tokenizer, e.g. fg_env's SFT policy (``fg-env sft`` builds it, in ``~/.cache/fg_env``).

TRL takes one scalar per completion, so each completion is played through FineGrainedQA-v0 sentence
by sentence and each reward model's step rewards are summed over the episode; the dense placement
of the paper (each segment's reward on its last token) is what ``agents.algorithms.ppo.FineGrainedPPO`` does.

``--normalize-per-component`` trains with TRL's ``multi_objective_aggregation="normalize_then_sum"`` (GDPO):
each reward model's returns are normalised within the question's group of completions before the
weighted sum, so that no model drowns the others by its spread (``FineGrainedRewards.grpo_kwargs``).

Needs ``pip install "fg-env[trl]"``; runs offline on the CPU.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything here is local

from transformers import PrinterCallback, TrainerCallback  # noqa: E402
from trl import GRPOConfig, GRPOTrainer  # noqa: E402

from agents.policies.policy import LMPolicy  # noqa: E402
from agents.testing import tiny_policy  # noqa: E402
from fg_env.integrations.trl import FineGrainedRewards, prompt_dataset  # noqa: E402


class PrintRewards(TrainerCallback):
    """Print each reward model's mean episode return at every logging step."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names, self.started = names, time.perf_counter()

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not logs or f"rewards/{self.names[0]}/mean" not in logs:
            return
        parts = "  ".join(f"{name} {logs[f'rewards/{name}/mean']:+.2f}" for name in self.names)
        elapsed = time.perf_counter() - self.started
        print(f"step {state.global_step:3d}  {parts}  weighted {logs['reward']:+.3f}  ({elapsed:.1f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--policy", help="a local causal-LM folder (default: the tiny random test policy)")
    parser.add_argument("--steps", type=int, default=6, help="optimisation steps")
    parser.add_argument("--questions", type=int, default=8, help="train questions to draw prompts from")
    parser.add_argument("--num-generations", type=int, default=4, help="completions per prompt (GRPO's group)")
    parser.add_argument("--max-completion-length", type=int, default=48, help="tokens per completion")
    parser.add_argument("--max-sentences", type=int, default=10, help="the env truncates answers here")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--normalize-per-component",
        action="store_true",
        help="GDPO: normalise each reward model within the group before the weighted sum (TRL's normalize_then_sum)",
    )
    parser.add_argument("--out", help="TRL's output_dir (default: a temporary folder)")
    args = parser.parse_args()

    policy = LMPolicy.from_pretrained(args.policy) if args.policy else tiny_policy(seed=args.seed)
    rewards = FineGrainedRewards(split="train", max_sentences=args.max_sentences, num_envs=2 * args.num_generations)
    # TRL's GRPOTrainer does not cut prompts: keep passage sentences only while prompt + answer fit.
    room = None if policy.context_length is None else policy.context_length - args.max_completion_length
    dataset = prompt_dataset(
        "synthetic",
        "train",
        limit=args.questions,
        tokenizer=policy.tokenizer if room else None,
        max_prompt_tokens=room,
    )
    print(f"reward functions {list(rewards.reward_names)}, weights {rewards.reward_weights}; {len(dataset)} prompts")

    config = GRPOConfig(
        output_dir=args.out or tempfile.mkdtemp(prefix="fg-env-grpo-"),
        max_steps=args.steps,
        per_device_train_batch_size=2 * args.num_generations,  # two questions per step
        num_generations=args.num_generations,
        max_completion_length=args.max_completion_length,
        # The paper's weights 0.3, 0.5, 0.3; with GDPO, also multi_objective_aggregation="normalize_then_sum".
        **(rewards.grpo_kwargs() if args.normalize_per_component else {"reward_weights": rewards.reward_weights}),
        learning_rate=1e-4,
        use_cpu=True,
        bf16=False,  # TRL defaults to bf16 mixed precision; plain float32 is exact and no slower on a CPU here
        gradient_checkpointing=False,  # TRL's default is on: it saves memory a small model does not need
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
        seed=args.seed,
    )
    trainer = GRPOTrainer(
        model=policy.model,
        reward_funcs=rewards.reward_funcs,
        args=config,
        train_dataset=dataset,
        processing_class=policy.tokenizer,
        callbacks=[PrintRewards(rewards.reward_names)],
    )
    trainer.remove_callback(PrinterCallback)  # it prints every logged number; PrintRewards prints ours
    started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - started
    print(
        f"{args.steps} GRPO steps in {seconds:.1f} s ({seconds / args.steps:.2f} s a step); "
        f"{rewards.scorer.batches_scored} batches scored, once each for all {len(rewards.reward_names)} reward models"
    )


if __name__ == "__main__":
    main()
