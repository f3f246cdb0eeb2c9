"""FineGrainedPPO side by side with TRL's GRPOTrainer and RLOOTrainer, in one run: seconds per step and tokens per second.

Every trainer gets the same policy, the same prompts (the built-in world's train questions, passages cut
to fit the context), the same batch (4 prompts x 4 completions), the same sampler (top-k 20, temperature
0.7) and the same completion budget (up to 80 new tokens), on the CPU in float32 with gradient
checkpointing off (TRL's defaults are bf16 and checkpointing on; GRPO is also timed with them).
TRL's trainers score each completion with fg_env's reward models through
:mod:`fg_env.integrations.trl` (one scalar per model and completion, the paper's weights); FineGrainedPPO
places each segment's reward on its last token. Everything else is each trainer's default: GRPO and
RLOO take one gradient step per batch (``num_iterations=1``); GRPO keeps no reference model
(``beta=0``), RLOO does (``beta=0.05``);
FineGrainedPPO runs 4 epochs of minibatches of 8 with a value head and a KL penalty against its
reference, and is also timed with 1 epoch.

A step is one batch of 16 completions: generated, scored, trained on. Reported per trainer: the median
seconds per step after one warm-up step, completion tokens per second (tokens generated / step time),
and where the time goes (generation, rewards, log-prob passes, the rest: backward and optimiser).

Sizes: the quick SFT policy, the default SFT policy and a random ~25M-parameter Llama with the default
tokenizer (``benchmarks/ppo_memory.py``). Usage::

    python benchmarks/vs_trl.py [--sizes quick,default,25m] [--steps 4] [--threads 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PROMPTS, SAMPLES, MAX_NEW_TOKENS, TOP_K, TEMPERATURE = 4, 4, 80, 20, 0.7


class PhaseTimer:
    """Wall time spent inside chosen methods of an object, per phase, for the current step."""

    def __init__(self) -> None:
        self.current: dict[str, float] = defaultdict(float)

    def wrap(self, owner: Any, method: str, phase: str) -> None:
        original: Callable[..., Any] = getattr(owner, method)

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.current[phase] += time.perf_counter() - start

        setattr(owner, method, timed)

    def take(self) -> dict[str, float]:
        taken, self.current = dict(self.current), defaultdict(float)
        return taken


def _summary(name: str, steps: list[dict[str, float]]) -> dict[str, Any]:
    timed = steps[1:] or steps  # the first step warms caches up
    seconds = statistics.median(s["seconds"] for s in timed)
    tokens = statistics.median(s["tokens"] for s in timed)
    phases = {k: statistics.median(s.get(k, 0.0) for s in timed) for k in ("generate", "rewards", "logprobs")}
    phases["rest"] = max(seconds - sum(phases.values()), 0.0)
    return {
        "trainer": name,
        "steps": len(timed),
        "seconds_per_step": seconds,
        "completion_tokens": tokens,
        "tokens_per_second": tokens / seconds,
        "phases": phases,
    }


def run_fg_ppo(policy_path: str, steps: int, epochs: int, precision: str = "fp32") -> dict[str, Any]:
    from agents.experiments.run import make_env
    from agents.policies.policy import LMPolicy
    from agents.algorithms.ppo import FineGrainedPPO, PPOConfig

    config = PPOConfig(
        iterations=steps, prompts_per_iteration=PROMPTS, samples_per_prompt=SAMPLES, minibatch_size=8,
        max_new_tokens=MAX_NEW_TOKENS, top_k=TOP_K, temperature=TEMPERATURE, ppo_epochs=epochs,
        precision=precision,
    )
    trainer = FineGrainedPPO(LMPolicy.from_pretrained(policy_path), make_env("fine-grained", None, "train", 6), config)
    rows = []
    for _ in range(steps):
        m = trainer.train_iteration()
        rows.append({
            "seconds": m["time_iteration"],
            "tokens": m["completion_tokens"],
            "generate": m["time_generate"],
            "rewards": m["time_env"],
            "logprobs": m["time_update_forward"],
        })
    suffix = "" if precision == "fp32" else f", {precision}"
    return _summary(f"FineGrainedPPO ({epochs} epoch{'s' if epochs > 1 else ''}{suffix})", rows)


def run_trl(kind: str, policy_path: str, steps: int, own_defaults: bool = False) -> dict[str, Any]:
    """TRL's trainer ``kind`` (GRPO or RLOO); ``own_defaults`` keeps its bf16 and gradient checkpointing."""
    from transformers import PrinterCallback, TrainerCallback

    from agents.policies.policy import LMPolicy
    from fg_env.integrations.trl import FineGrainedRewards, prompt_dataset

    if kind == "GRPO":
        from trl import GRPOConfig as Config
        from trl import GRPOTrainer as Trainer
    else:
        from trl import RLOOConfig as Config
        from trl import RLOOTrainer as Trainer

    policy = LMPolicy.from_pretrained(policy_path)
    rewards = FineGrainedRewards(split="train", max_sentences=6, num_envs=PROMPTS * SAMPLES)
    room = None if policy.context_length is None else policy.context_length - MAX_NEW_TOKENS
    dataset = prompt_dataset(
        "synthetic", "train", limit=PROMPTS * (steps + 1), tokenizer=policy.tokenizer if room else None,
        max_prompt_tokens=room,
    )
    timer = PhaseTimer()
    rows: list[dict[str, float]] = []

    class Steps(TrainerCallback):
        def on_step_begin(self, args, state, control, **kwargs):
            self.started = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            rows.append({"seconds": time.perf_counter() - self.started, **timer.take()})

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "completions/mean_length" in logs and rows:
                rows[-1]["tokens"] = logs["completions/mean_length"] * PROMPTS * SAMPLES

    config = Config(
        output_dir=tempfile.mkdtemp(prefix=f"fg-env-{kind.lower()}-"),
        max_steps=steps,
        per_device_train_batch_size=PROMPTS * SAMPLES,
        num_generations=SAMPLES,
        max_completion_length=MAX_NEW_TOKENS,
        temperature=TEMPERATURE,
        top_k=TOP_K,
        reward_weights=rewards.reward_weights,
        use_cpu=True,
        **({} if own_defaults else {"bf16": False, "gradient_checkpointing": False}),
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
        seed=0,
    )
    trainer = Trainer(
        model=policy.model, reward_funcs=rewards.reward_funcs, args=config, train_dataset=dataset,
        processing_class=policy.tokenizer, callbacks=[Steps()],
    )
    trainer.remove_callback(PrinterCallback)  # it prints every logged number
    timer.wrap(trainer, "_generate", "generate")
    timer.wrap(trainer, "_calculate_rewards", "rewards")
    timer.wrap(trainer, "_get_per_token_logps_and_entropies", "logprobs")
    trainer.train()
    for row in rows:
        row.setdefault("tokens", float("nan"))
    return _summary(f"TRL {kind}Trainer" + (" (its defaults)" if own_defaults else ""), rows)


def _policy_paths(sizes: list[str], folder: Path) -> dict[str, str]:
    from agents.policies.sft import build_default_policy

    paths = {}
    if "quick" in sizes:
        paths["quick"] = str(build_default_policy(quick=True))
    if "default" in sizes or "25m" in sizes:
        default = str(build_default_policy())
        if "default" in sizes:
            paths["default"] = default
        if "25m" in sizes:
            from ppo_memory import write_25m_model

            paths["25m"] = str(write_25m_model(folder / "llama-25m", default))
    return paths


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="quick,default,25m", help="policies: quick, default, 25m, or a folder")
    parser.add_argument("--steps", type=int, default=4, help="steps per trainer (the first is a warm-up)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument(
        "--trainers",
        default="ppo,ppo1,grpo,rloo,grpo-defaults",
        help=(
            "which to time: ppo (4 epochs), ppo1 (1 epoch), ppo-bf16, ppo1-bf16, grpo, rloo, grpo-defaults (TRL's bf16 "
            "and gradient checkpointing)"
        ),
    )
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    trainers = {t.strip() for t in args.trainers.split(",")}
    results = []
    with tempfile.TemporaryDirectory() as folder:
        named = [s for s in sizes if s in ("quick", "default", "25m")]
        paths = {**_policy_paths(named, Path(folder)), **{s: s for s in sizes if s not in named}}
        for size, path in paths.items():
            plans: list[Callable[[], dict[str, Any]]] = []
            if "ppo" in trainers:
                plans.append(partial(run_fg_ppo, path, args.steps, epochs=4))
            if "ppo1" in trainers:
                plans.append(partial(run_fg_ppo, path, args.steps, epochs=1))
            if "ppo-bf16" in trainers:
                plans.append(partial(run_fg_ppo, path, args.steps, epochs=4, precision="bf16"))
            if "ppo1-bf16" in trainers:
                plans.append(partial(run_fg_ppo, path, args.steps, epochs=1, precision="bf16"))
            if "grpo" in trainers:
                plans.append(partial(run_trl, "GRPO", path, args.steps))
            if "rloo" in trainers:
                plans.append(partial(run_trl, "RLOO", path, args.steps))
            if "grpo-defaults" in trainers:
                plans.append(partial(run_trl, "GRPO", path, args.steps, own_defaults=True))
            for plan in plans:  # each printed (and saved) as soon as it is measured
                run = plan()
                run["policy"] = size
                p = run["phases"]
                print(
                    f"{size:<8} {run['trainer']:<26} {run['seconds_per_step']:7.2f} s/step  "
                    f"{run['tokens_per_second']:7.1f} completion tok/s  (generate {p['generate']:.2f}, rewards "
                    f"{p['rewards']:.2f}, log-probs {p['logprobs']:.2f}, rest {p['rest']:.2f})",
                    flush=True,
                )
                results.append(run)
                if args.json:
                    Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
