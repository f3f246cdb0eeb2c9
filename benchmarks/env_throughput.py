"""Environment steps per second on typical 6-sentence answers, and where the time goes.

Each episode replays a 6-sentence answer (gold sentences padded with passage sentences, so that the
annotator meets correct, off-topic and repeated text) one sentence per step, then the empty action.
The same run measures, as a baseline, the environment with a constant reward model of each granularity,
so the annotator's share is a ratio against that baseline (the machine is shared and noisy).

    python benchmarks/env_throughput.py [--episodes 300] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Sequence

import gymnasium as gym

import fg_env  # noqa: F401 - registers the environment
from fg_env.rewards.base import RewardModel, ScoringRequest, SegmentScore
from fg_env.text import clear_cache, split_sentences, split_sub_sentences
from fg_env.types import Granularity

SENTENCES_PER_ANSWER = 6


class Constant(RewardModel):
    """A free reward model: the baseline that isolates the environment's own cost."""

    bounds = (0.0, 1.0)

    def __init__(self, name: str, granularity: Granularity) -> None:
        self.name, self.granularity = name, granularity

    def score(self, requests: Sequence[ScoringRequest]) -> list[SegmentScore]:
        return [SegmentScore(1.0) for _ in requests]


def typical_answers(env: gym.Env, first: int, episodes: int) -> list[tuple[int, list[str]]]:
    """Answers to questions ``first .. first + episodes - 1``: every run meets new text, so no cache
    (annotator or segmenter) is warm from an earlier run."""
    examples = env.unwrapped.examples
    answers = []
    for i in range(first, first + episodes):
        example = examples[i]
        gold = example.references[0]
        sentences = [gold[s.start : s.end] for s in split_sentences(gold)]
        extra = [s for p in example.passages for s in p.sentences]
        sentences = (sentences + extra + sentences)[:SENTENCES_PER_ANSWER]
        answers.append((i, [" " + s if j else s for j, s in enumerate(sentences)]))
    return answers


def run_episodes(env: gym.Env, answers: list[tuple[int, list[str]]]) -> tuple[int, float]:
    steps = 0
    start = time.perf_counter()
    for index, sentences in answers:
        env.reset(options={"index": index})
        for action in [*sentences, ""]:
            steps += 1
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                break
    return steps, time.perf_counter() - start


def segmentation_time(answers: list[tuple[int, list[str]]]) -> float:
    """What the environment spends splitting actions into sentences and sub-sentences."""
    start = time.perf_counter()
    for _, sentences in answers:
        for action in sentences:
            for sentence in split_sentences(action):
                split_sub_sentences(action, sentence)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=300, help="episodes per repeat (repeats use different questions)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    start = time.perf_counter()
    env = gym.make("FineGrainedQA-v0", split="train")
    make_seconds = time.perf_counter() - start
    baseline = gym.make(
        "FineGrainedQA-v0",
        split="train",
        reward_models=[Constant("relevance", Granularity.SUB_SENTENCE), Constant("factuality", Granularity.SENTENCE), Constant("completeness", Granularity.EPISODE)],
    )
    warm_up = typical_answers(env, 0, 20)
    run_episodes(env, warm_up)
    run_episodes(baseline, warm_up)

    full, base, seg = [], [], []
    for repeat in range(args.repeats):
        answers = typical_answers(env, 20 + repeat * args.episodes, args.episodes)
        for example_index, _ in answers:  # generate the questions outside the timed loops
            env.unwrapped.examples[example_index]
        seg.append(segmentation_time(answers))
        clear_cache()
        base.append(run_episodes(baseline, answers)[1])
        clear_cache()
        steps, seconds = run_episodes(env, answers)
        full.append(seconds)
    total, baseline_total, segmentation = statistics.median(full), statistics.median(base), statistics.median(seg)
    annotation = total - baseline_total
    rest = baseline_total - segmentation
    print(f"gym.make('FineGrainedQA-v0'): {make_seconds * 1000:.0f} ms (first call, includes imports)")
    print(f"{args.episodes} episodes of {SENTENCES_PER_ANSWER} sentences + end = {steps} steps, median of {args.repeats}\n")
    print("| measure | value |")
    print("| --- | --- |")
    print(f"| steps / s, annotator reward models | {steps / total:,.0f} |")
    print(f"| steps / s, constant reward models (baseline) | {steps / baseline_total:,.0f} |")
    print(f"| time in segmentation | {segmentation / total:.0%} |")
    print(f"| time in annotation and reward scoring | {annotation / total:.0%} |")
    print(f"| time in the rest of the environment | {rest / total:.0%} |")
    print(f"| annotator env cost vs baseline | {total / baseline_total:.2f}x |")


if __name__ == "__main__":
    main()
