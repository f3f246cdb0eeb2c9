"""Step-wise ``LMPolicy.act`` versus one-shot generation of the same answers (issue 3, benchmark 10a).

Greedy answers to dev questions of the built-in world are written four ways by the same policy:

* ``generate, 1 prompt``: one ``LMPolicy.generate([prompt])`` call per question (the baseline, ratio 1);
* ``act, KV cache kept``: ``act(obs)`` sentence by sentence, the KV cache carried across steps;
* ``act, re-encoded``: the same, but the cache is dropped before every step, so each step re-encodes the
  prompt and the answer so far (what an agent without cache reuse pays);
* ``generate, batched``: one ``generate`` call for all questions (what rollouts use).

The answers of the first two must be identical (greedy, same model); the script checks it. Methods are
interleaved and each is timed ``--repeats`` times; the minimum is reported, as the least disturbed by other
processes on a shared machine. Target: act with the cache kept at most 1.2x the one-shot cost.

    python benchmarks/agent_act_vs_generate.py            # the default SFT policy (built and cached if absent)
    python benchmarks/agent_act_vs_generate.py --quick    # the quick SFT policy
    python benchmarks/agent_act_vs_generate.py --policy PATH --questions 16 --threads 1 --json out.json
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--policy", help="a policy folder (default: the cached default SFT policy)")
    parser.add_argument("--quick", action="store_true", help="use the quick SFT preset when --policy is not given")
    parser.add_argument("--questions", type=int, default=16, help="dev questions answered (default 16)")
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    return parser.parse_args()


def play(policy, example, max_new_tokens: int, keep_cache: bool) -> str:
    """One greedy episode with act(): the observation's response is the policy's own text so far."""
    obs = {"question": example.question, "passages": example.context, "response": ""}
    policy.reset_act_cache()
    for _ in range(max_new_tokens + 1):
        if not keep_cache:
            policy.reset_act_cache()
        action = policy.act(obs, max_new_tokens=max_new_tokens)
        if not action:
            return obs["response"]
        obs = dict(obs, response=obs["response"] + action)
    raise RuntimeError("act() did not end the answer")


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    from agents.policies.policy import LMPolicy
    from fg_env.data import make_dataset

    if args.policy:
        path = Path(args.policy)
    else:
        from agents.policies.sft import build_default_policy

        path = build_default_policy(quick=args.quick)
    policy = LMPolicy.from_pretrained(path)
    examples = [make_dataset("synthetic").split("dev")[i] for i in range(args.questions)]
    prompts = [ex.prompt for ex in examples]
    n = args.max_new_tokens

    methods = {
        "generate, 1 prompt": lambda: [policy.generate([p], do_sample=False, max_new_tokens=n)[0].response_text for p in prompts],
        "act, KV cache kept": lambda: [play(policy, ex, n, keep_cache=True) for ex in examples],
        "act, re-encoded": lambda: [play(policy, ex, n, keep_cache=False) for ex in examples],
        "generate, batched": lambda: [g.response_text for g in policy.generate(prompts, do_sample=False, max_new_tokens=n)],
    }
    reference = [policy.generate([p], do_sample=False, max_new_tokens=n)[0] for p in prompts]  # also a warm-up
    tokens = sum(len(g.response_ids) for g in reference)
    play(policy, examples[0], n, keep_cache=True)

    best = {name: float("inf") for name in methods}
    answers = {}
    for _ in range(args.repeats):
        for name, run in methods.items():
            start = time.perf_counter()
            answers[name] = run()
            best[name] = min(best[name], time.perf_counter() - start)

    expected = [g.response_text.rstrip() for g in reference]
    same = {name: sum(a.rstrip() == e for a, e in zip(out, expected)) for name, out in answers.items()}
    baseline = best["generate, 1 prompt"]
    rows = []
    print(f"policy: {path}  ({sum(p.numel() for p in policy.model.parameters()) / 1e6:.2f} M parameters)")
    print(f"{args.questions} dev questions, greedy, {tokens} response tokens, torch threads {args.threads}, "
          f"best of {args.repeats}, {platform.processor() or platform.machine()}")
    print(f"| method | seconds | ms / answer | response tokens / s | x one-shot | same answer as one-shot |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, seconds in best.items():
        row = {"method": name, "seconds": round(seconds, 3), "ms_per_answer": round(1000 * seconds / len(prompts), 1),
               "tokens_per_s": round(tokens / seconds, 1), "ratio": round(seconds / baseline, 3),
               "same_answers": same[name], "answers": len(prompts)}
        rows.append(row)
        print(f"| {name} | {row['seconds']:.2f} | {row['ms_per_answer']:.0f} | {row['tokens_per_s']:.0f} | "
              f"{row['ratio']:.2f} | {same[name]}/{len(prompts)} |")
    if same["act, KV cache kept"] != len(prompts):
        raise SystemExit("act() with the KV cache kept did not reproduce the one-shot greedy answers")
    if args.json:
        args.json.write_text(json.dumps({"policy": str(path), "questions": args.questions, "threads": args.threads,
                                         "response_tokens": tokens, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
