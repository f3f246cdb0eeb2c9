"""Choose the sentence segmenter: accuracy and speed of candidates on real QA-Feedback text.

Ground truth: QA-Feedback's passages come split into sentences. Each passage's sentences are joined
with one space and every candidate segments the joined text; a boundary is a character offset where a
sentence ends. We report boundary precision / recall / F1, exact-sentence accuracy, and microseconds per
passage (ratios against the fastest candidate in the same run, since the machine is shared).

    pip install syntok pysbd   # the candidates that are not project dependencies
    python benchmarks/segmenters.py [--data ../shared/data/qa_feedback] [--passages 1000]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Callable

Segmenter = Callable[[str], list[tuple[int, int]]]


def blingfire_spans(text: str) -> list[tuple[int, int]]:
    from fg_env.text import split_sentences

    return [(s.start, s.end) for s in split_sentences(text)]


def syntok_spans(text: str) -> list[tuple[int, int]]:
    import syntok.segmenter as segmenter

    spans = []
    for paragraph in segmenter.analyze(text):
        for sentence in paragraph:
            tokens = list(sentence)
            if tokens:
                spans.append((tokens[0].offset, tokens[-1].offset + len(tokens[-1].value)))
    return spans


def pysbd_spans(text: str) -> list[tuple[int, int]]:
    import pysbd

    global _PYSBD
    try:
        seg = _PYSBD
    except NameError:
        seg = _PYSBD = pysbd.Segmenter(language="en", clean=False, char_span=True)
    return [(s.start, s.start + len(s.sent.rstrip())) for s in seg.segment(text)]


def load_passages(data_dir: Path, limit: int) -> list[list[str]]:
    records = json.loads((data_dir / "dev_feedback.json").read_text())
    passages = []
    for record in records:
        for passage in record["passages"]:
            sentences = [s.strip() for s in passage[1:] if s.strip()]
            if len(sentences) >= 2:
                passages.append(sentences)
    return passages[:limit]


def evaluate(segment: Segmenter, passages: list[list[str]]) -> dict[str, float]:
    tp = fp = fn = exact = total = 0
    start = time.perf_counter()
    predictions = []
    for sentences in passages:
        predictions.append(segment(" ".join(sentences)))
    elapsed = time.perf_counter() - start
    for sentences, predicted in zip(passages, predictions):
        text = " ".join(sentences)
        gold, offset = [], 0
        for sentence in sentences:
            gold.append((offset, offset + len(sentence)))
            offset += len(sentence) + 1
        gold_ends = {e for _, e in gold[:-1]}  # the text's end is a boundary for everyone
        predicted_ends = {e for _, e in predicted if e < len(text)}
        tp += len(gold_ends & predicted_ends)
        fp += len(predicted_ends - gold_ends)
        fn += len(gold_ends - predicted_ends)
        exact += len(set(gold) & set(predicted))
        total += len(gold)
    precision, recall = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    return {
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / max(precision + recall, 1e-9),
        "exact": exact / total,
        "us_per_passage": elapsed / len(passages) * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/qa_feedback")
    parser.add_argument("--passages", type=int, default=1000)
    args = parser.parse_args()
    passages = load_passages(args.data, args.passages)
    candidates = {"blingfire (chosen)": blingfire_spans, "syntok": syntok_spans, "pysbd": pysbd_spans}
    results = {}
    for name, segment in candidates.items():
        try:
            segment("Warm up. Twice.")
        except ImportError:
            print(f"{name}: not installed, skipped")
            continue
        results[name] = evaluate(segment, passages)
    fastest = min(r["us_per_passage"] for r in results.values())
    print(f"{len(passages)} QA-Feedback passages, {sum(map(len, passages))} sentences\n")
    print("| segmenter | boundary P | boundary R | boundary F1 | exact sentences | µs / passage | time vs fastest |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, r in results.items():
        print(f"| {name} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} | {r['exact']:.3f} | {r['us_per_passage']:.0f} | {r['us_per_passage'] / fastest:.1f}x |")


if __name__ == "__main__":
    main()
