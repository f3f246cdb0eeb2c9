"""The reward-hacking probe: sampled answers are scored by return and quality; holes are answers the
reward pays for that the metrics do not."""

from __future__ import annotations

import pytest

from agents.experiments.hacking import holes, main, sample_and_score, summarise_probe
from agents.testing import tiny_policy


def _row(ret: float, quality: float) -> dict:
    return {"return": ret, "quality": quality, "answer": f"{ret}/{quality}", "errors": []}


def test_a_high_reward_low_quality_answer_is_a_hole():
    rows = [_row(r, q) for r, q in [(1, 0.5), (2, 0.6), (3, 0.7), (4, 0.8), (5, 0.9)] * 4] + [_row(9, 0.1)]
    assert [r["answer"] for r in holes(rows)] == ["9/0.1"]
    honest = [_row(r, r / 10) for r in range(1, 21)]  # reward tracks quality: no hole
    assert holes(honest) == []
    summary = summarise_probe(honest, top=3)
    assert summary["spearman_return_quality"] == pytest.approx(1.0) and [r["return"] for r in summary["top"]] == [
        20,
        19,
        18,
    ]


def test_sampled_answers_carry_their_return_metrics_and_labels():
    rows = sample_and_score(tiny_policy(), questions=2, samples=3, max_new_tokens=16, seed=0)
    assert len(rows) == 6 and [r["example_id"] for r in rows[:3]] == [rows[0]["example_id"]] * 3
    for row in rows:
        assert 0.0 <= row["quality"] <= 1.0 and isinstance(row["return"], float)
        assert all(text in row["answer"] for _, text in row["errors"])


def test_a_folder_without_trained_policies_is_reported(tmp_path, capsys):
    assert main([str(tmp_path)]) == 2
    assert "no trained policies" in capsys.readouterr().err
