"""Peak memory of one PPO iteration on the CPU: the default policy and a ~25M-parameter model, with and without LoRA.

Each configuration runs in a fresh Python process (peak resident memory only grows, so processes cannot
share a measurement): load the policy, build the trainer (reference copy or LoRA adapters, value head,
Adam), run one iteration at the default scale of ``fg-env compare`` (4 prompts x 4 answers, up to 80
new tokens, minibatches of 8, 4 epochs), and report

* ``peak``: the process's peak resident memory (``ru_maxrss``);
* ``ppo``: the peak minus the resident memory after the imports and the environment, before the policy
  loads: what the policy, its reference, Adam and one iteration add.

The ~25M model is a random Llama (the default policy's family: 512 wide, 7 layers, its tokenizer); its
answers run to the full 80 tokens, the longest an iteration gets. LoRA adapts ``q_proj,k_proj,v_proj,o_proj``
at rank 8. Usage::

    python benchmarks/ppo_memory.py [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

LORA = {"lora_rank": 8, "lora_target_modules": "q_proj,k_proj,v_proj,o_proj"}


def _rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def measure(policy_path: str, options: dict) -> dict:
    """One iteration in this process; the memory figures and the parameter counts."""
    import torch

    from agents.experiments.run import make_env
    from agents.experiments.settings import PRESETS
    from agents.algorithms.model_setup import count_parameters
    from agents.policies.policy import LMPolicy
    from agents.algorithms.ppo import FineGrainedPPO

    torch.set_num_threads(2)
    config = PRESETS["default"].config(training={"iterations": 1, **options}).training
    env = make_env("fine-grained", None, "train", 6)
    before = _rss_mib()
    policy = LMPolicy.from_pretrained(policy_path)
    trainer = FineGrainedPPO(policy, env, config)
    metrics = trainer.train(progress=False)
    total, trainable = count_parameters(trainer.actor_critic)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {
        "parameters": total,
        "trainable": trainable,
        "reference_copy": trainer.ref_model is not None,
        "rss_before_policy_mib": round(before, 1),
        "peak_mib": round(peak, 1),
        "ppo_mib": round(peak - before, 1),
        "trained_tokens": metrics[0]["trained_tokens"],
    }


def write_25m_model(folder: Path, tokenizer_source: str) -> Path:
    """A random ~25M-parameter Llama with the default policy's tokenizer."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_source)
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=512, intermediate_size=1408, num_hidden_layers=7,
        num_attention_heads=8, num_key_value_heads=8, max_position_embeddings=512, tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="also write the figures here")
    parser.add_argument("--one", nargs=2, metavar=("POLICY", "OPTIONS_JSON"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:  # a child process: one measurement, printed as JSON
        print(json.dumps(measure(args.one[0], json.loads(args.one[1]))))
        return 0

    from agents.policies.sft import build_default_policy

    default = str(build_default_policy())
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        large = str(write_25m_model(Path(folder) / "llama-25m", default))
        for name, path in (("default policy", default), ("~25M Llama", large)):
            for label, options in (("full", {}), ("LoRA r=8", LORA)):
                done = subprocess.run(
                    [sys.executable, __file__, "--one", path, json.dumps(options)], capture_output=True, text=True
                )
                if done.returncode:
                    print(done.stderr[-2000:], file=sys.stderr)
                    return 1
                row = {"model": name, "training": label, **json.loads(done.stdout.strip().splitlines()[-1])}
                rows.append(row)
                print(
                    f"{name:<15} {label:<9} {row['parameters'] / 1e6:6.1f}M params, {row['trainable'] / 1e6:6.2f}M trained, "
                    f"peak {row['peak_mib']:7.1f} MiB, PPO adds {row['ppo_mib']:7.1f} MiB",
                    flush=True,
                )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
