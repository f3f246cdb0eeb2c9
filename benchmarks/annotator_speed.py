"""Speed of the built-in world and its annotator (issue 2, items 5-7).

Measures, on this machine:

* generating one question of the built-in world (cold: first read of each example);
* ``Annotator.annotate`` on typical 6-sentence answers (sentences of gold answers and passages), with
  the per-question matchers compiled, (a) with sentence readings cold, (b) with readings warm but the
  answer new, (c) the very same answer again;
* the three annotator reward models scoring a growing answer as the environment asks them to (each
  step: the new sentence's sub-sentences for relevance, the sentence for factuality; completeness at
  the end), in microseconds per step.

Run: ``python benchmarks/annotator_speed.py [--questions 300]``. Figures go to stdout as a table.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from fg_env.data.synthetic import SyntheticQA, reading
from fg_env.data.synthetic.annotator import Annotator
from fg_env.rewards.annotator_models import CompletenessRewardModel, FactualityRewardModel, RelevanceRewardModel
from fg_env.rewards.base import ScoringRequest
from fg_env.text import split_sentences, split_sub_sentences
from fg_env.types import Span


def typical_answers(examples, seed: int = 0) -> list[tuple[object, list[str]]]:
    rng = random.Random(seed)
    out = []
    for example in examples:
        pool = [r[s.start : s.end] for r in example.references for s in split_sentences(r)]
        pool += [s for p in example.passages for s in p.sentences]
        out.append((example, [rng.choice(pool) for _ in range(6)]))
    return out


def best_of(repeats: int, fn) -> float:
    """Seconds of the fastest of ``repeats`` runs (the machine is shared: the minimum is the signal)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    n = args.questions

    # Generation: a fresh dataset per repeat, so every read generates.
    def generate() -> None:
        split = SyntheticQA(seed=1).split("dev")
        split[0]  # deals out the names (once per dataset)
        start = time.perf_counter()
        for i in range(1, n):
            split[i]
        timings.append((time.perf_counter() - start) / (n - 1))

    timings: list[float] = []
    for _ in range(args.repeats):
        generate()
    generation = min(timings)
    dataset = SyntheticQA()
    examples = [dataset.split("dev")[i % 500] for i in range(n)]
    answers = typical_answers(examples)
    texts = [(e, " ".join(s)) for e, s in answers]

    annotator = Annotator()
    for example, text in texts:  # compile every question's matchers once
        annotator.annotate(example, text)

    def annotate_new(cold_readings: bool) -> None:
        fresh = Annotator()
        fresh._compiled = annotator._compiled  # matchers compiled, answers never seen
        for example, text in texts:
            if cold_readings:
                reading.read_sentence.cache_clear()
            fresh.annotate(example, text)

    cold = best_of(args.repeats, lambda: annotate_new(True)) / n
    warm = best_of(args.repeats, lambda: annotate_new(False)) / n
    again = best_of(args.repeats, lambda: [annotator.annotate(e, t) for e, t in texts]) / n

    def play(models) -> int:
        relevance, factuality, completeness = models
        steps = 0
        for example, sentences in answers:
            response = ""
            for sentence in sentences:
                start = len(response) + (1 if response else 0)
                response = f"{response} {sentence}" if response else sentence
                pieces = split_sub_sentences(response, Span(start, len(response)))
                relevance.score([ScoringRequest(example, response[: p.end], p) for p in pieces])
                factuality.score([ScoringRequest(example, response, Span(start, len(response)))])
                steps += 1
            completeness.score([ScoringRequest(example, response, Span(0, len(response)))])
        return steps

    def models():
        shared = Annotator()
        shared._compiled = annotator._compiled
        return RelevanceRewardModel(shared), FactualityRewardModel(shared), CompletenessRewardModel(shared)

    steps = n * 6

    def play_cold() -> None:
        reading.read_sentence.cache_clear()
        play(models())

    step_cold = best_of(args.repeats, play_cold) / steps
    step_warm = best_of(args.repeats, lambda: play(models())) / steps
    sentences_per_answer = statistics.mean(len(split_sentences(t)) for _, t in texts)

    print(f"questions: {n}, sentences per answer: {sentences_per_answer:.1f}")
    print("| measure | microseconds |")
    print("| --- | ---: |")
    print(f"| generate one question (cold) | {generation * 1e6:.0f} |")
    print(f"| annotate a 6-sentence answer, sentence readings cold | {cold * 1e6:.0f} |")
    print(f"| annotate a 6-sentence answer, readings warm, answer new | {warm * 1e6:.0f} |")
    print(f"| annotate the same answer again (cached) | {again * 1e6:.1f} |")
    print(f"| reward models per env step (one new sentence), readings cold | {step_cold * 1e6:.0f} |")
    print(f"| reward models per env step, readings warm | {step_warm * 1e6:.0f} |")


if __name__ == "__main__":
    main()
