"""Directions of our results against the paper's Table 5 (agents.reporting.paper)."""

from __future__ import annotations

import json

import pytest

from agents.reporting.paper import PAPER_TABLE5, direction_rows, direction_table, main


def _runs(key: str, *values: float) -> list[dict[str, float]]:
    return [{key: v} for v in values]


def test_each_direction_is_read_from_the_interval_of_the_difference():
    per_seed = {
        "SFT": _runs("relevance_ratio", 0.50),
        "PPO fine-grained": _runs("relevance_ratio", 0.60, 0.61, 0.62),  # clearly up, as in the paper (+0.002)
        "PPO no-relevance": _runs("relevance_ratio", 0.40, 0.45, 0.41),  # paired: clearly down, as in the paper
        "PPO no-factuality": _runs("relevance_ratio", 0.40, 0.80, 0.60),  # too noisy to tell
    }
    rows = {row["row"]: row["cells"]["relevance_ratio"] for row in direction_rows(per_seed, metrics=["relevance_ratio"])}
    by_seed = {"SFT": {0: {"relevance_ratio": 0.5}}, "PPO fine-grained": {3: {"relevance_ratio": 0.6}, 7: {"relevance_ratio": 0.7}}}
    assert direction_rows(by_seed, metrics=["relevance_ratio"])[0]["seeds"] == [3, 7]
    assert set(rows) == {"fine-grained", "no-relevance", "no-factuality"}  # no-completeness was not run
    assert rows["fine-grained"]["mean"] == pytest.approx(0.11) and rows["fine-grained"]["agree"] == "yes"
    assert rows["no-relevance"]["ours_sign"] == "−" and rows["no-relevance"]["agree"] == "yes"
    assert rows["no-relevance"]["paper"] == pytest.approx(
        PAPER_TABLE5["no-relevance"]["relevance_ratio"] - PAPER_TABLE5["fine-grained"]["relevance_ratio"]
    )
    assert rows["no-factuality"]["ours_sign"] == "0" and rows["no-factuality"]["agree"] == "inconclusive"
    per_seed["PPO no-completeness"] = _runs("relevance_ratio", 0.50, 0.52, 0.51)  # down; the paper went up
    table = direction_table(direction_rows(per_seed, metrics=["relevance_ratio"]))
    assert "| no-completeness − fine-grained | -0.100 vs +0.049 ✗ |" in table


def test_the_command_reads_results_folders_and_names_a_missing_one(tmp_path, capsys):
    folder = tmp_path / "compare"
    folder.mkdir()
    runs = {"relevance_ratio": 0.5, "factuality_ratio": 0.5, "completeness": 0.1, "rouge_l": 0.3, "length": 50.0}
    per_seed = {"SFT": [runs], "PPO fine-grained": [{**runs, "relevance_ratio": 0.6}, {**runs, "relevance_ratio": 0.7}]}
    (folder / "results.json").write_text(json.dumps({"seeds": [0, 1], "per_seed": per_seed}))
    ablations = tmp_path / "ablations"
    ablations.mkdir()
    # Run on seed 1 only: paired with fine-grained's seed 1 (relevance 0.7), not its first run.
    one = {"seeds": [1], "per_seed": {"PPO no-relevance": [{**runs, "relevance_ratio": 0.65}]}}
    (ablations / "results.json").write_text(json.dumps(one))
    assert main([str(folder), str(ablations)]) == 0
    out = capsys.readouterr().out
    assert "| fine-grained − SFT | +0.150" in out and "| no-relevance − fine-grained | -0.050" in out
    assert "Scorer versions not recorded." in out  # folders written before versions were
    assert main([str(tmp_path / "gone")]) == 2
    assert "gone/results.json does not exist" in capsys.readouterr().err
    # Folders another annotator scored cannot be paired: both versions are named.
    (ablations / "results.json").write_text(json.dumps({**one, "scored_by": {"annotator": "2026.12.0"}}))
    assert main([str(folder), str(ablations)]) == 2
    err = capsys.readouterr().err
    assert "scorer versions not recorded" in err and "scored by annotator 2026.12.0" in err
