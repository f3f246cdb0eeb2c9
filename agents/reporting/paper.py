"""Our results beside the paper's (Wu et al. 2023, Table 5: long-form QA, QA-Feedback dev, T5-large),
compared by direction, cell by cell.

Values cannot be compared: the paper's completeness is a normalised reward-model score, ours a share
of required facts; its policy and data are another's. Directions can: does fine-grained PPO raise each
metric over SFT, and does leaving a reward model out move each metric the way it did in the paper?

* fine-grained RLHF is compared with SFT: our runs against the SFT policy's one evaluation (Student-t
  interval of the differences over seeds);
* each ablation is compared with fine-grained RLHF: paired by seed (the same seeds and questions).

Our direction is ``+`` or ``−`` when the 95% interval of the difference excludes 0, ``0`` otherwise;
a cell agrees (``yes``) when both directions are the same, is ``inconclusive`` when ours is ``0``.

Example:
    >>> fg = [{"relevance_ratio": r} for r in (0.60, 0.62, 0.61)]
    >>> rows = direction_rows({"SFT": [{"relevance_ratio": 0.5}], "PPO fine-grained": fg}, metrics=["relevance_ratio"])
    >>> rows[0]["cells"]["relevance_ratio"]["agree"]
    'yes'

Run ``python -m agents.reporting.paper results/compare_default results/ablations_default`` for the README's table.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from agents.reporting.stats import mean_ci, paired_difference, scorers_note
from fg_env.rewards.versions import SCORED_BY
from fg_env.rewards.versions import caption as scorer_caption

__all__ = ["PAPER_TABLE5", "direction_rows", "direction_table"]

# Wu et al. 2023, Table 5 (dev set): relevance ratio, factuality ratio, completeness, ROUGE (the paper's
# percentage as a fraction, as ours), length in words.
PAPER_TABLE5: dict[str, dict[str, float]] = {
    "SFT": {
        "relevance_ratio": 0.514,
        "factuality_ratio": 0.735,
        "completeness": 0.065,
        "rouge_l": 0.4313,
        "length": 96.69,
    },
    "fine-grained": {
        "relevance_ratio": 0.516,
        "factuality_ratio": 0.825,
        "completeness": 0.266,
        "rouge_l": 0.4429,
        "length": 101.76,
    },
    "no-relevance": {
        "relevance_ratio": 0.249,
        "factuality_ratio": 0.771,
        "completeness": 0.742,
        "rouge_l": 0.3852,
        "length": 179.31,
    },
    "no-factuality": {
        "relevance_ratio": 0.716,
        "factuality_ratio": 0.640,
        "completeness": -0.177,
        "rouge_l": 0.4318,
        "length": 78.08,
    },
    "no-completeness": {
        "relevance_ratio": 0.565,
        "factuality_ratio": 0.799,
        "completeness": 0.123,
        "rouge_l": 0.4361,
        "length": 93.92,
    },
}
METRICS: tuple[str, ...] = ("relevance_ratio", "factuality_ratio", "completeness", "rouge_l", "length")
TITLES = {
    "relevance_ratio": "Rel.",
    "factuality_ratio": "Fact.",
    "completeness": "Comp.",
    "rouge_l": "ROUGE",
    "length": "Length",
}
# Row (paper's name) -> (our arm, the arm it is compared with).
COMPARISONS: dict[str, tuple[str, str]] = {
    "fine-grained": ("PPO fine-grained", "SFT"),
    "no-relevance": ("PPO no-relevance", "PPO fine-grained"),
    "no-factuality": ("PPO no-factuality", "PPO fine-grained"),
    "no-completeness": ("PPO no-completeness", "PPO fine-grained"),
}


def _sign(low: float, high: float) -> str:
    return "+" if low > 0 else "−" if high < 0 else "0"


Runs = Sequence[Mapping[str, Any]] | Mapping[int, Mapping[str, Any]]


def _by_seed(runs: Runs) -> dict[int, Mapping[str, Any]]:
    return dict(runs) if isinstance(runs, Mapping) else dict(enumerate(runs))


def direction_rows(per_seed: Mapping[str, Runs], metrics: Sequence[str] = METRICS) -> list[dict[str, Any]]:
    """One row per paper row whose arms ``per_seed`` holds (arm -> its evaluations, one per seed: a
    mapping seed -> evaluation, or a list in the same seed order for every arm): per metric our mean
    change and interval, the paper's change, both directions and whether they agree. Arms are paired
    on the seeds they share; ``seeds`` in a row says which."""
    rows = []
    for name, (arm, base) in COMPARISONS.items():
        if arm not in per_seed or base not in per_seed:
            continue
        runs, base_runs = _by_seed(per_seed[arm]), _by_seed(per_seed[base])
        single = len(base_runs) == 1  # the SFT policy: one deterministic evaluation
        seeds = sorted(runs) if single else sorted(set(runs) & set(base_runs))
        cells = {}
        for key in metrics:
            ours = [runs[seed][key] for seed in seeds]
            if single:
                (start,) = base_runs.values()
                change = mean_ci([value - start[key] for value in ours])
            else:
                change = paired_difference(ours, [base_runs[seed][key] for seed in seeds])
            paper = PAPER_TABLE5[name][key] - PAPER_TABLE5["SFT" if base == "SFT" else "fine-grained"][key]
            our_sign, paper_sign = _sign(change["low"], change["high"]), "+" if paper > 0 else "−"
            agree = "inconclusive" if our_sign == "0" else "yes" if our_sign == paper_sign else "no"
            cells[key] = {**change, "paper": paper, "ours_sign": our_sign, "paper_sign": paper_sign, "agree": agree}
        rows.append({"row": name, "arm": arm, "base": base, "seeds": seeds, "cells": cells})
    return rows


def direction_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """The markdown table of :func:`direction_rows`: per cell our change (and direction), the paper's, agreement."""
    metrics = list(rows[0]["cells"]) if rows else []
    lines = [
        "| change | " + " | ".join(TITLES[key] for key in metrics) + " |",
        "|" + " --- |" * (len(metrics) + 1),
    ]
    for row in rows:
        cells = []
        for key in metrics:
            cell = row["cells"][key]
            digits = 1 if key == "length" else 3
            paper_digits = 1 if key == "length" else 3
            mark = {"yes": "✓", "no": "✗", "inconclusive": "~"}[cell["agree"]]
            cells.append(f"{cell['mean']:+.{digits}f} vs {cell['paper']:+.{paper_digits}f} {mark}")
        lines.append(f"| {row['row']} − {row['base'].removeprefix('PPO ')} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Print the direction table of the ``results.json`` files in the folders given."""
    folders = list(argv if argv is not None else sys.argv[1:])
    if not folders:
        print("usage: python -m agents.reporting.paper RESULTS_DIR [RESULTS_DIR ...]", file=sys.stderr)
        return 2
    per_seed: dict[str, dict[int, Any]] = {}
    scorers: Mapping[str, Any] | None = None
    for k, folder in enumerate(folders):
        path = Path(folder) / "results.json"
        if not path.is_file():
            print(f"error: {path} does not exist (run fg-env compare --out {folder} first)", file=sys.stderr)
            return 2
        results = json.loads(path.read_text())
        # Pairs across folders are differences of numbers: both must come from the same scorers.
        if k == 0:
            scorers = results.get(SCORED_BY)
        elif results.get(SCORED_BY) != scorers:
            print(
                f"error: {folders[0]} ({scorer_caption(scorers)}) and {folder} "
                f"({scorer_caption(results.get(SCORED_BY))}) were not scored alike: their runs cannot be paired",
                file=sys.stderr,
            )
            return 2
        for arm, runs in results["per_seed"].items():
            # The SFT and random rows are one evaluation each; PPO arms have one run per seed, in order.
            seeds = results["seeds"] if len(runs) == len(results["seeds"]) else range(len(runs))
            per_seed.setdefault(arm, dict(zip(seeds, runs)))  # the first folder's arm wins
    print(direction_table(direction_rows(per_seed)))
    print(scorers_note(scorers))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
