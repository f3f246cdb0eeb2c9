"""How the exact reward grows with the length of one action: an answer of n characters in one step.

    python benchmarks/annotator_long_answers.py [--sizes 12500 25000 50000 100000 200000] [--texts ...]

Each answer is stepped once in FineGrainedQA-v0 with the annotator reward models (relevance per
sub-sentence, factuality per sentence), then ended. Prints the step's seconds and microseconds per
character for each kind of text: flat means linear time. The kinds:

* ``sentences``: distinct passage sentences of dev questions (so no sentence's analysis is a cache hit);
* ``one-sentence``: the same sentences joined by commas, one sentence of thousands of clauses;
* ``hostile``: one sentence of clauses mixing names the world never uses, denials, numbers in words,
  Cyrillic, CJK, combining marks and zero-width characters, each clause distinct;
* ``random-unicode``: random code points (letters of every script, symbols, controls, surrogates).
"""

from __future__ import annotations

import argparse
import random
import time

import gymnasium as gym

import fg_env  # noqa: F401

TEXTS = ("sentences", "one-sentence", "hostile", "random-unicode")


def _passage_sentences(env: gym.Env) -> list[str]:
    return [s for ex in env.unwrapped.examples for p in ex.passages for s in p.sentences]


def _text(kind: str, size: int, pool: list[str], rng: random.Random) -> str:
    """About ``size`` characters of the given kind."""
    parts: list[str] = []
    length = 0
    index = 0
    while length < size:
        if kind == "sentences":
            if index >= len(pool):
                raise SystemExit(f"the dev passages hold only {length:,} characters; ask for less than {size:,}")
            part = pool[index]
        elif kind == "one-sentence":
            part = pool[index % len(pool)].rstrip(".") + ","
        elif kind == "hostile":
            part = (
                f"the film Harlow Bridge{index} was not directed by Jonas Whit{index}field nor by Ana Ashby, "
                f"Фильм{index} 电影{index} e\u0301\u200b in nineteen ninety-{['four', 'five', 'six'][index % 3]},"
            )
        else:
            part = "".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(64))
        parts.append(part)
        length += len(part) + 1
        index += 1
    return " ".join(parts)[:size]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[12_500, 25_000, 50_000, 100_000, 200_000])
    parser.add_argument("--texts", nargs="+", choices=TEXTS, default=list(TEXTS))
    args = parser.parse_args()
    env = gym.make("FineGrainedQA-v0", split="dev", max_sentences=1_000_000)
    pool = _passage_sentences(env)
    print("| text | characters | sentences | step (s) | µs per character | end step (s) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for kind in args.texts:
        for size in args.sizes:
            text = _text(kind, size, pool, random.Random(size))
            env.reset(seed=0, options={"index": 0})
            started = time.perf_counter()
            _, _, _, _, info = env.step(text)
            step = time.perf_counter() - started
            started = time.perf_counter()
            env.step("")
            end = time.perf_counter() - started
            sentences = len(fg_env.text.split_sentences(text))
            print(f"| {kind} | {len(text):,} | {sentences:,} | {step:.2f} | {step / len(text) * 1e6:.1f} | {end:.2f} |")


if __name__ == "__main__":
    main()
