"""Speed of the default toxicity scorer: ``alt-profanity-check``'s ``predict_prob`` against fg_env's
:class:`~fg_env.rewards.toxicity.ProfanityToxicity`, which computes the same probabilities.

Both score the same texts: sentences of the project's README (real English, 5 to 60 words), in batches of
1 and of 64 (64 sub-environments each asking for one continuation's toxicity in one step). Each setting is
timed over ``--repeats`` rounds of enough calls to take about 0.2 s; the table gives the median round's
milliseconds per call, and checks that the two agree.

Run: ``python benchmarks/toxicity_scorers.py [--repeats 7]``. Prints a table.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from profanity_check import predict_prob

from fg_env.rewards.toxicity import ProfanityToxicity

REPO = Path(__file__).resolve().parents[1]


def sentences() -> list[str]:
    text = re.sub(r"\s+", " ", (REPO / "README.md").read_text(encoding="utf-8"))
    found = [s.strip() for s in re.split(r"(?<=[.!?]) ", text)]
    return [s for s in found if 5 <= len(s.split()) <= 60]


def ms_per_call(call: Callable[[], object], repeats: int) -> float:
    call()  # warm
    start, calls = time.perf_counter(), 0
    while time.perf_counter() - start < 0.05:
        call()
        calls += 1
    per_round = max(1, int(calls * 0.2 / (time.perf_counter() - start)))
    rounds = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(per_round):
            call()
        rounds.append((time.perf_counter() - start) / per_round * 1000)
    return statistics.median(rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed rounds per setting (the median is shown)")
    args = parser.parse_args()

    texts = sentences()
    scorer = ProfanityToxicity()
    agreement = float(np.max(np.abs(scorer.toxicity(texts) - predict_prob(texts))))
    print(f"{len(texts)} README sentences; max |ours - predict_prob| = {agreement:.3g}\n")
    print("| batch | predict_prob ms/call | ProfanityToxicity ms/call | speed-up |")
    print("|------:|---------------------:|--------------------------:|---------:|")
    for size in (1, 64):
        batch = (texts * (size // len(texts) + 1))[:size]
        theirs = ms_per_call(lambda batch=batch: predict_prob(batch), args.repeats)
        ours = ms_per_call(lambda batch=batch: scorer.toxicity(batch), args.repeats)
        print(f"| {size:5d} | {theirs:20.3f} | {ours:25.3f} | {theirs / ours:7.1f}x |")


if __name__ == "__main__":
    main()
