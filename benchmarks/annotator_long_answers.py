"""How the exact reward grows with the length of one action: an answer of n characters in one step.

    python benchmarks/annotator_long_answers.py [--sizes 12500 25000 50000 100000 200000]

Each answer is distinct passage sentences of dev questions joined into one action of about n
characters (so no sentence's analysis is a cache hit), stepped once in FineGrainedQA-v0 with the
annotator reward models (relevance per sub-sentence, factuality per sentence), then ended. Prints the
step's seconds and microseconds per character: flat means linear time.
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym

import fg_env  # noqa: F401


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[12_500, 25_000, 50_000, 100_000, 200_000])
    args = parser.parse_args()
    env = gym.make("FineGrainedQA-v0", split="dev", max_sentences=1_000_000)
    pool = [s for ex in env.unwrapped.examples for p in ex.passages for s in p.sentences]
    print("| characters | sentences | step (s) | µs per character | end step (s) |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for size in args.sizes:
        sentences, length = [], 0
        for sentence in pool:
            if length >= size:
                break
            sentences.append(sentence)
            length += len(sentence) + 1
        if length < size:
            raise SystemExit(f"the dev passages hold only {length:,} characters; ask for less than {size:,}")
        text = " ".join(sentences)
        env.reset(seed=0, options={"index": 0})
        started = time.perf_counter()
        env.step(text)
        step = time.perf_counter() - started
        started = time.perf_counter()
        env.step("")
        end = time.perf_counter() - started
        print(f"| {len(text):,} | {len(sentences):,} | {step:.2f} | {step / len(text) * 1e6:.1f} | {end:.2f} |")


if __name__ == "__main__":
    main()
