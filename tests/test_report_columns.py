"""The reporting layer on another environment's metrics (issue 22): tables, paired tests, evaluation curves and
sample efficiency take their columns as a parameter, and sample efficiency knows lower-is-better metrics
(toxicity, perplexity). The QA columns stay the default."""

from __future__ import annotations

import numpy as np
import pytest

import agents.reporting.stats as stats
from agents.experiments.runner import curve_point
from agents.reporting.html import html_table, write_report
from agents.reporting.stats import (
    METRIC_COLUMNS,
    markdown_table,
    paired_comparison,
    paired_table,
    plot_eval_curves,
    sample_efficiency,
    sample_efficiency_table,
    summarise,
    table_cells,
)

#: The detoxification task's evaluation (the paper's Table 1): toxicity and fluency lower is better.
DETOX_COLUMNS: tuple[tuple[str, str], ...] = (
    ("avg_max_toxicity", "Avg. max tox. ↓"),
    ("toxicity_probability", "Tox. prob. ↓"),
    ("perplexity", "PPL ↓"),
    ("dist_1", "Dist-1 ↑"),
    ("dist_2", "Dist-2 ↑"),
    ("dist_3", "Dist-3 ↑"),
)
LOWER = {"avg_max_toxicity", "toxicity_probability", "perplexity"}


def _detox_eval(toxicity: float, probability: float, perplexity: float, dist: float) -> dict[str, float]:
    return {
        "avg_max_toxicity": toxicity,
        "toxicity_probability": probability,
        "perplexity": perplexity,
        "dist_1": dist,
        "dist_2": dist + 0.2,
        "dist_3": dist + 0.25,
    }


def _curves(key: str, *curves: tuple[float, ...]) -> list[list[dict[str, float]]]:
    """One run per curve, evaluated every 80 episodes."""
    return [[{"episodes": 80 * i, key: x} for i, x in enumerate(curve)] for curve in curves]


# ---- sample efficiency of a lower-is-better metric


def test_falling_toxicity_reaches_the_reference_at_the_hand_computed_crossing():
    candidate = _curves("avg_max_toxicity", (0.4, 0.2, 0.1), (0.4, 0.2, 0.1))
    reference = _curves("avg_max_toxicity", (0.4, 0.35, 0.3), (0.4, 0.35, 0.3))
    result = sample_efficiency(
        candidate, reference, metrics=["avg_max_toxicity"], lower_is_better=LOWER, bootstrap=100
    )["avg_max_toxicity"]
    # The target is the reference's final toxicity, in its own sign; the candidate starts at 0.4 and falls
    # 0.2 over the first 80 episodes, so it is at 0.3 after 0.1 / 0.2 * 80 = 40 episodes.
    assert result["target"] == pytest.approx(0.3) and result["start"] == pytest.approx(0.4)
    assert result["episodes"] == pytest.approx(40.0)
    assert result["lower_is_better"] is True and result["reached_share"] == 1.0 and result["budget"] == 160
    assert result["low"] == pytest.approx(40.0) and result["high"] == pytest.approx(40.0)  # every resample alike


def test_the_crossing_of_the_mean_curve_of_seeds_that_differ():
    # Mean candidate 0.4, 0.25, 0.1: at 0.3 after (0.4 - 0.3) / (0.4 - 0.25) * 80 = 53.33 episodes.
    candidate = _curves("perplexity", (0.4, 0.2, 0.1), (0.4, 0.3, 0.1))
    reference = _curves("perplexity", (0.4, 0.35, 0.3), (0.4, 0.35, 0.3))
    result = sample_efficiency(candidate, reference, metrics=["perplexity"], lower_is_better=LOWER, bootstrap=300)
    row = result["perplexity"]
    assert row["episodes"] == pytest.approx(80 * 0.1 / 0.15)
    # Resampling the candidate's seeds: both runs of the first (40), mixed (53.3), both of the second (80 * 0.1 / 0.1).
    assert 40.0 - 1e-9 <= row["low"] <= row["episodes"] <= row["high"] <= 80.0 + 1e-9


def test_a_lower_is_better_metric_read_as_higher_is_better_would_be_reached_at_the_start():
    candidate = _curves("avg_max_toxicity", (0.4, 0.2, 0.1))
    reference = _curves("avg_max_toxicity", (0.4, 0.35, 0.3))
    naive = sample_efficiency(candidate, reference, metrics=["avg_max_toxicity"], bootstrap=20)["avg_max_toxicity"]
    assert naive["episodes"] == 0.0 and naive["lower_is_better"] is False  # 0.4 >= 0.3 from the start


def test_an_arm_whose_toxicity_falls_too_slowly_never_reaches_the_target():
    slow = _curves("avg_max_toxicity", (0.4, 0.35, 0.3))
    fast = _curves("avg_max_toxicity", (0.4, 0.2, 0.1))
    result = sample_efficiency(slow, fast, metrics=["avg_max_toxicity"], lower_is_better=LOWER, bootstrap=20)
    row = result["avg_max_toxicity"]
    assert row["target"] == pytest.approx(0.1) and row["episodes"] is None and row["reached_share"] == 0.0


def test_only_the_metrics_named_lower_is_better_are_flipped():
    def runs(*points: tuple[float, float]) -> list[list[dict[str, float]]]:
        return [[{"episodes": 80 * i, "toxicity_probability": t, "dist_1": d} for i, (t, d) in enumerate(points)]]

    candidate = runs((0.5, 0.5), (0.1, 0.7), (0.1, 0.7))  # toxicity falls, diversity rises
    reference = runs((0.5, 0.5), (0.4, 0.55), (0.3, 0.6))
    result = sample_efficiency(
        candidate, reference, metrics=["toxicity_probability", "dist_1"], lower_is_better=LOWER, bootstrap=20
    )
    # Toxicity 0.5 -> 0.1 over 80 episodes: 0.3 at 40; diversity 0.5 -> 0.7: 0.6 at 40 too.
    assert result["toxicity_probability"]["episodes"] == pytest.approx(40.0)
    assert result["dist_1"]["episodes"] == pytest.approx(40.0)
    assert [result[k]["lower_is_better"] for k in ("toxicity_probability", "dist_1")] == [True, False]


# ---- the sample-efficiency table


def test_the_table_says_a_reference_whose_toxicity_rose_ended_at_or_above_the_start():
    candidate = _curves("avg_max_toxicity", (0.4, 0.3, 0.2))
    reference = _curves("avg_max_toxicity", (0.4, 0.42, 0.45))  # got more toxic
    result = sample_efficiency(candidate, reference, metrics=["avg_max_toxicity"], lower_is_better=LOWER, bootstrap=20)
    lines = sample_efficiency_table(result, "fine-grained", "holistic", columns=DETOX_COLUMNS).splitlines()
    assert lines[2] == "| Avg. max tox. ↓ | 0.450 | n/a: holistic ended at or above the start (0.400) | n/a | n/a |"


def test_the_table_reads_an_improved_lower_is_better_metric_as_a_speed():
    candidate = _curves("avg_max_toxicity", (0.4, 0.2, 0.1), (0.4, 0.2, 0.1))
    reference = _curves("avg_max_toxicity", (0.4, 0.35, 0.3), (0.4, 0.35, 0.3))
    result = sample_efficiency(candidate, reference, metrics=["avg_max_toxicity"], lower_is_better=LOWER, bootstrap=20)
    lines = sample_efficiency_table(result, "fine-grained", "holistic", columns=DETOX_COLUMNS).splitlines()
    assert lines[2] == "| Avg. max tox. ↓ | 0.300 | 40 | [40, 40] | 75% |"  # 40 of 160 episodes


def test_a_row_without_the_flag_is_higher_is_better():
    # results.json written before rows recorded lower_is_better: every metric there was higher-is-better.
    row = {
        "target": 0.45,
        "start": 0.4,
        "episodes": 40.0,
        "low": 30.0,
        "high": 50.0,
        "reached_share": 1.0,
        "budget": 160,
    }
    line = sample_efficiency_table({"dist_1": row}, "fine-grained", "holistic", columns=DETOX_COLUMNS).splitlines()[2]
    assert line == "| Dist-1 ↑ | 0.450 | 40 | [30, 50] | 75% |"


# ---- tables of other columns


def test_markdown_table_with_the_detox_columns():
    summary = {
        "GPT-2": summarise([_detox_eval(0.527, 0.520, 11.31, 0.58)], columns=DETOX_COLUMNS),
        "PPO": summarise([_detox_eval(0.2, 0.1, 12.0, 0.5), _detox_eval(0.3, 0.2, 13.0, 0.6)], columns=DETOX_COLUMNS),
    }
    lines = markdown_table(summary, columns=DETOX_COLUMNS).splitlines()
    assert lines[0] == "| Policy | Avg. max tox. ↓ | Tox. prob. ↓ | PPL ↓ | Dist-1 ↑ | Dist-2 ↑ | Dist-3 ↑ |"
    assert lines[1] == "|" + " --- |" * 7
    assert lines[2] == "| GPT-2 | 0.527 | 0.520 | 11.31 | 0.580 | 0.780 | 0.830 |"
    # Two runs: half-width of the 95% CI = t(0.975, 1) * sd / sqrt(2) = 12.706 * 0.05 = 0.635 for 0.1 apart.
    assert lines[3].startswith("| PPO | 0.250 ± 0.635 | 0.150 ± 0.635 | 12.50 ± 6.35 | 0.550 ± 0.635 |")
    assert (
        "relevance_ratio" not in summary["GPT-2"] and table_cells(summary["GPT-2"], columns=DETOX_COLUMNS)[2] == "11.31"
    )


def test_the_default_columns_are_still_the_qa_ones():
    line = markdown_table({"SFT": summarise([{"length": 20.0}])}).splitlines()[0]
    assert line == "| Policy | " + " | ".join(title for _, title in METRIC_COLUMNS) + " |"


def test_paired_table_with_the_detox_columns():
    a = [_detox_eval(0.2, 0.1, 10.0, 0.5), _detox_eval(0.3, 0.2, 12.0, 0.6)]
    b = [_detox_eval(0.3, 0.3, 11.0, 0.5), _detox_eval(0.5, 0.3, 14.0, 0.7)]
    differences = paired_comparison(a, b, columns=DETOX_COLUMNS)
    assert list(differences) == [key for key, _ in DETOX_COLUMNS]
    assert paired_comparison(a, b) == {}  # none of the QA metrics are there
    lines = paired_table(differences, "fine-grained", "holistic", columns=DETOX_COLUMNS).splitlines()
    assert lines[0] == "| fine-grained − holistic | mean difference | 95% CI | p (paired t) |"
    # Toxicity differences -0.1 and -0.2: mean -0.15, standard error 0.05, half-width t(0.975, 1) * 0.05 = 0.635,
    # t = -3 on 1 degree of freedom: p = 0.205.
    assert lines[2] == "| Avg. max tox. ↓ | -0.150 | [-0.785, 0.485] | 0.205 |"
    assert lines[4] == "| PPL ↓ | -1.50 | [-7.85, 4.85] | 0.205 |"  # perplexity to 2 decimals
    assert lines[5].startswith("| Dist-1 ↑ | -0.050 |")


def test_html_table_and_report_with_the_detox_columns(tmp_path):
    summary = {"GPT-2": summarise([_detox_eval(0.527, 0.520, 11.31, 0.58)], columns=DETOX_COLUMNS)}
    table = html_table(summary, columns=DETOX_COLUMNS)
    assert "<th>PPL ↓</th>" in table and "<td>11.31</td>" in table and "Rel. ratio" not in table
    page = write_report(tmp_path, summary, {}, None, images=(), columns=DETOX_COLUMNS).read_text(encoding="utf-8")
    assert "<th>Dist-3 ↑</th>" in page and "<td>0.830</td>" in page and "Rel. ratio" not in page


def test_curve_point_keeps_the_columns_it_is_given():
    evaluation = {**_detox_eval(0.3, 0.2, 12.0, 0.5), "relevance_ratio": 0.9, "samples": []}
    point = curve_point(2, 160, evaluation, columns=DETOX_COLUMNS)
    assert point == {"iteration": 2, "episodes": 160, **_detox_eval(0.3, 0.2, 12.0, 0.5)}
    assert curve_point(2, 160, evaluation) == {"iteration": 2, "episodes": 160, "relevance_ratio": 0.9}


# ---- evaluation curves of other metrics


@pytest.mark.parametrize("metrics", [["perplexity"], ["avg_max_toxicity", "perplexity", "dist_1", "unlisted"]])
def test_plot_eval_curves_draws_the_metrics_it_is_given(tmp_path, monkeypatch, metrics):
    runs = [
        [{"episodes": 80 * i, **_detox_eval(0.4 - 0.1 * i, 0.3, 12.0 - i, 0.5), "unlisted": 1.0} for i in range(3)]
        for _ in range(2)
    ]
    drawn = []
    save = stats.save_figure

    def keep(fig, path):  # the figure, to read its panels back
        drawn.append(fig)
        return save(fig, path)

    monkeypatch.setattr(stats, "save_figure", keep)
    path = plot_eval_curves(
        {"fine-grained": runs, "holistic": runs}, tmp_path / "eval_curves.png", metrics=metrics, columns=DETOX_COLUMNS
    )
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 1000
    titles = {"avg_max_toxicity": "Avg. max tox.", "perplexity": "PPL", "dist_1": "Dist-1", "unlisted": "unlisted"}
    assert [axis.get_title() for axis in drawn[0].axes] == [titles[m] for m in metrics]
    assert all(len(axis.lines) == 2 for axis in drawn[0].axes)  # one line per arm
    means = drawn[0].axes[metrics.index("perplexity")].lines[0].get_ydata()
    assert np.allclose(means, [12.0, 11.0, 10.0])
