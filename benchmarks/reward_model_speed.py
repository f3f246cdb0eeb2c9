"""Speed of learned reward models: scored answers per second through ``RewardModel.score`` against the
raw encoder's forward pass on the same batch, and the number of forward passes a batch of
environment steps costs.

A batch is one environment step of ``--batch`` parallel episodes on QA-Feedback questions (the
built-in world's when the QA-Feedback files are absent): each episode has ``--sentences`` sentences
of an answer so far and adds one more, whose sub-sentences (relevance) or sentence (factuality) are
scored. Settings measured, on the same answers:

* ``raw encoder``: the backbone's forward pass alone over one pre-tokenised, pre-padded row per
  answer (the least work that reads every answer once): the baseline;
* ``RewardModel.score``: the whole call the environment makes (tokenising, planning rows, the
  answer-causal mask, the forward pass, the head), batched;
* ``one call per answer``: the same model called once per episode, as an unbatched environment would.

The target is ``RewardModel.score`` at 0.9x the raw encoder or better: everything around the forward
pass (tokenising, planning, the mask) must be cheap. On a CPU, one call per answer can beat one
padded pass, since it computes no padding and CPU time grows with tokens, not calls; on a GPU the
single padded pass is what keeps the device busy. The environment sends one call per step.

Run: ``python benchmarks/reward_model_speed.py [--batch 32] [--threads 2]``. Prints a table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch  # noqa: E402

from fg_env.rewards.base import ScoringRequest  # noqa: E402
from fg_env.rewards.learned.components import COMPONENTS  # noqa: E402
from fg_env.rewards.learned.config import RewardModelConfig, default_backbone  # noqa: E402
from fg_env.rewards.learned.encoding import plan_rows  # noqa: E402
from fg_env.rewards.learned.model import LearnedRewardModel  # noqa: E402
from fg_env.rewards.learned.network import RewardNetwork, load_backbone  # noqa: E402
from fg_env.text import split_sentences  # noqa: E402
from fg_env.types import QAExample, Span  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "qa_feedback"


def answers_and_examples(data_dir: Path, count: int) -> list[tuple[QAExample, str]]:
    """(question, a sampled answer) pairs: QA-Feedback predictions, else the built-in world's gold answers."""
    if (data_dir / "dev_feedback.json").is_file():
        from fg_env.data.qa_feedback import load_feedback

        records = load_feedback(data_dir / "dev_feedback.json")
        # One answer per question (cycling through the four predictions), so no two episodes coincide.
        pairs = [(r.example, r.predictions[i % 4]) for i, r in enumerate(records)]
        pairs = [(ex, p) for ex, p in pairs if len(split_sentences(p)) >= 2]
    else:
        from fg_env.data.base import make_dataset

        pairs = [(ex, ex.references[0]) for ex in make_dataset("synthetic").split("dev")]
    return pairs[:count]


def step_requests(component: str, pairs: list[tuple[QAExample, str]], sentences: int) -> tuple[list[ScoringRequest], list[int]]:
    """One environment step per episode: the requests for its newest sentence, and which episode each is."""
    spec = COMPONENTS[component]
    requests, owner = [], []
    for k, (example, answer) in enumerate(pairs):
        spans = split_sentences(answer)
        upto = spans[min(sentences, len(spans) - 1)].end
        so_far = answer[:upto]
        newest = spans[min(sentences, len(spans) - 1)]
        for span in spec.segments(so_far):
            if span.start >= newest.start:
                requests.append(ScoringRequest(example, so_far[: span.end], Span(span.start, span.end)))
                owner.append(k)
    return requests, owner


def timed(settings: dict[str, Callable[[], None]], repeats: int) -> dict[str, float]:
    """Median seconds of each setting; repeats are interleaved so that load on a shared machine
    falls on all settings alike."""
    for fn in settings.values():
        fn()  # warm-up
    times: dict[str, list[float]] = {name: [] for name in settings}
    for _ in range(repeats):
        for name, fn in settings.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backbone", default=None, help="encoder (default: bundled MiniLM-L6)")
    parser.add_argument("--batch", type=int, default=32, help="parallel episodes in one step")
    parser.add_argument("--sentences", type=int, default=2, help="sentences already in each answer")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--data-dir", type=Path, default=SHARED)
    parser.add_argument("--components", nargs="+", default=["relevance", "factuality"])
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    backbone_path = args.backbone or default_backbone()
    pairs = answers_and_examples(args.data_dir, args.batch)
    print(f"device {device}, torch threads {torch.get_num_threads()}, backbone {'/'.join(Path(backbone_path).parts[-2:])}, "
          f"{len(pairs)} episodes per step, {args.sentences} sentences so far")
    header = f"{'component':<12}{'setting':<24}{'answers/s':>11}{'vs raw':>8}{'forward passes':>16}{'rows':>6}{'tokens':>8}"
    lines = [header, "-" * len(header)]
    for component in args.components:
        spec = COMPONENTS[component]
        backbone, tokenizer = load_backbone(backbone_path, device)
        max_length = min(512, int(backbone.config.max_position_embeddings))
        labels = list(spec.labels)
        network = RewardNetwork(backbone, len(labels) if spec.kind == "token" else 1)
        config = RewardModelConfig(component, backbone_path, labels, spec.uses_passages, max_length,
                                   {"mean": 0.0, "std": 1.0} if spec.kind == "pairwise" else None)
        model = LearnedRewardModel(network, tokenizer, config, batch_size=max(args.batch, 1), device=device)
        requests, owner = step_requests(component, pairs, args.sentences)
        n_answers = len(set(owner))

        # The baseline: the encoder alone, one row per answer (its latest prefix), pre-tokenised and padded.
        latest: dict[int, ScoringRequest] = {}
        for request, k in zip(requests, owner):
            latest[k] = request
        rows = model.encoder.encode([(model.encoder.context(r.example), r.answer) for r in latest.values()])
        batch = model.encoder.collate(rows, torch.float32, device)
        plain_mask = (batch["input_ids"] != model.encoder.pad_id).long()
        extra = {"token_type_ids": batch["token_type_ids"]} if "token_type_ids" in batch else {}

        def raw() -> None:
            with torch.no_grad():
                backbone(input_ids=batch["input_ids"], attention_mask=plain_mask, **extra)
                if device == "cuda":
                    torch.cuda.synchronize()

        def batched() -> None:
            model.score(requests)

        by_answer: dict[int, list[ScoringRequest]] = {}
        for request, k in zip(requests, owner):
            by_answer.setdefault(k, []).append(request)

        def per_answer() -> None:
            for group in by_answer.values():
                model.score(group)

        model.forward_calls = 0
        batched()
        calls_batched = model.forward_calls
        model.forward_calls = 0
        per_answer()
        calls_loop = model.forward_calls
        seconds = timed({"raw": raw, "batched": batched, "loop": per_answer}, args.repeats)
        t_raw, t_batched, t_loop = seconds["raw"], seconds["batched"], seconds["loop"]
        tokens = int(plain_mask.sum())
        planned = plan_rows(model.encoder, [(model.encoder.context(r.example), r.answer) for r in requests])
        planned_tokens = sum(len(r) for r in planned.rows)
        settings = (
            ("raw encoder", t_raw, 1, len(rows), tokens),
            ("RewardModel.score", t_batched, calls_batched, len(planned.rows), planned_tokens),
            ("one call per answer", t_loop, calls_loop, len(planned.rows), planned_tokens),
        )
        for name, seconds, calls, n_rows, n_tokens in settings:
            rate = n_answers / seconds
            lines.append(f"{component:<12}{name:<24}{rate:>11.1f}{t_raw / seconds:>8.2f}{calls:>16}{n_rows:>6}{n_tokens:>8}")
        lines.append(f"{'':<12}({len(requests)} segments in {n_answers} answers)")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
