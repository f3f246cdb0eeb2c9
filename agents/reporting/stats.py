"""Tables and plots of experiment results: the paper's table layout, learning curves, weight sweeps.

:mod:`agents.experiments.compare` runs the experiments and hands their evaluations here: :func:`summarise` turns
the runs of one row into mean and standard deviation per metric, :func:`markdown_table` lays the rows
out as the paper's table (with a caption from :func:`comparison_caption` or :func:`sweep_caption`),
and :func:`plot_learning_curves` / :func:`plot_sweep` draw the figures. Nothing here trains or loads a
model; matplotlib is imported only to plot.

The metrics of a table are its ``columns``, ``(key, title)`` pairs: by default the QA environment's
(:data:`METRIC_COLUMNS`, :data:`CURVE_METRICS`); another environment's evaluation passes its own, and
:func:`sample_efficiency` is told which of them are better lower (``lower_is_better``).
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fg_env.errors import InvalidValueError
from fg_env.rewards.versions import caption as scorer_caption

__all__ = [
    "CURVE_METRICS",
    "METRIC_COLUMNS",
    "SPREAD",
    "episodes_to_reach",
    "paired_comparison",
    "paired_table",
    "plot_eval_curves",
    "sample_efficiency",
    "sample_efficiency_table",
    "mean_ci",
    "paired_difference",
    "comparison_caption",
    "scorers_note",
    "format_estimate",
    "markdown_table",
    "plot_learning_curves",
    "plot_sweep",
    "save_figure",
    "summarise",
    "sweep_caption",
    "table_cells",
]

SPREAD = "mean ± half-width of the 95% confidence interval (Student t)"

METRIC_COLUMNS: tuple[tuple[str, str], ...] = (
    ("relevance_ratio", "Rel. ratio ↑"),
    ("factuality_ratio", "Fact. ratio ↑"),
    ("completeness", "Comp. ↑"),
    ("rouge_l", "ROUGE-L ↑"),
    ("length", "Length (words)"),
)
#: The metrics of the evaluation curves (:func:`plot_eval_curves`, :func:`sample_efficiency`): the table's, less
#: the answer length, which is no score to reach.
CURVE_METRICS: tuple[str, ...] = ("relevance_ratio", "factuality_ratio", "completeness", "rouge_l")


def summarise(
    evals: Sequence[Mapping[str, Any]], *, columns: Sequence[tuple[str, str]] = METRIC_COLUMNS
) -> dict[str, Any]:
    """Mean, sample standard deviation (0 for one run) and the half-width of the 95% Student-t
    confidence interval of the mean (``ci95``, 0 for one run) of each metric of ``columns`` over runs.

    Example:
        >>> cell = summarise([{"length": 20.0}, {"length": 30.0}])["length"]
        >>> cell["mean"], round(cell["std"], 3), round(cell["ci95"], 2)
        (25.0, 7.071, 63.53)
        >>> summarise([{"perplexity": 12.5}], columns=[("perplexity", "PPL ↓")])
        {'runs': 1, 'perplexity': {'mean': 12.5, 'std': 0.0, 'ci95': 0.0}}
    """
    summary: dict[str, Any] = {"runs": len(evals)}
    for key, _ in columns:
        values = [e[key] for e in evals if e.get(key) is not None]
        if not values:
            summary[key] = None
            continue
        summary[key] = {
            "mean": float(np.mean(values)),
            "std": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0,
            "ci95": mean_ci(values)["half_width"],
        }
    return summary


def mean_ci(values: Sequence[float] | np.ndarray, confidence: float = 0.95) -> dict[str, float]:
    """Mean and Student-t confidence interval of ``values`` (independent runs, e.g. one per seed).

    With one value the interval is the value itself (``half_width`` 0): nothing is known of the spread.

    Example:
        >>> ci = mean_ci([1.0, 2.0, 3.0, 4.0, 5.0])
        >>> ci["mean"], round(ci["half_width"], 3), ci["n"]
        (3.0, 1.963, 5)
    """
    from scipy import stats

    data = np.asarray(values, dtype=np.float64)
    if data.ndim != 1 or data.size == 0:
        raise InvalidValueError(f"mean_ci needs a non-empty list of numbers, got shape {data.shape}")
    mean = float(data.mean())
    half = 0.0
    if data.size > 1:
        sem = float(data.std(ddof=1)) / np.sqrt(data.size)
        half = float(stats.t.ppf(0.5 + confidence / 2, data.size - 1) * sem)
    return {"mean": mean, "low": mean - half, "high": mean + half, "half_width": half, "n": int(data.size)}


def paired_difference(a: Sequence[float], b: Sequence[float], confidence: float = 0.95) -> dict[str, float]:
    """Mean of ``a - b`` over pairs (the same seed and questions), its confidence interval, and the
    two-sided paired t-test's p-value (1.0 when every difference is the same, so none can be tested).

    Example:
        >>> d = paired_difference([3.0, 4.0, 5.0], [1.0, 1.5, 2.5])
        >>> round(d["mean"], 3), round(d["p_value"], 4)
        (2.333, 0.0051)
    """
    from scipy import stats

    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise InvalidValueError(f"paired_difference needs two lists of the same length, got {x.shape} and {y.shape}")
    difference = x - y
    result = mean_ci(difference, confidence)
    p_value = 1.0
    if difference.size > 1 and np.ptp(difference) > 0:
        p_value = float(stats.ttest_rel(x, y).pvalue)
    return {**result, "p_value": p_value}


def _digits(key: str) -> int:
    """Decimals of a metric in a table: lengths (words) to 1, perplexities (tens) to 2, ratios and scores to 3."""
    return {"length": 1, "perplexity": 2}.get(key, 3)


def format_estimate(key: str, mean: float, spread: float | None = None) -> str:
    """A table cell: ``mean ± spread`` (no spread: the mean alone), lengths to 1 decimal, perplexities to 2,
    ratios and other scores to 3.

    Example:
        >>> format_estimate("length", 54.23, 2.5), format_estimate("rouge_l", 0.33851)
        ('54.2 ± 2.5', '0.339')
        >>> format_estimate("perplexity", 21.4567, 1.234)
        '21.46 ± 1.23'
    """
    digits = _digits(key)
    text = f"{mean:.{digits}f}"
    return text if spread is None else f"{text} ± {spread:.{digits}f}"


def table_cells(row: Mapping[str, Any], *, columns: Sequence[tuple[str, str]] = METRIC_COLUMNS) -> list[str]:
    """One row of a results table (a :func:`summarise` of its runs), one cell per column of ``columns``:
    ``mean ± half-width of the 95% confidence interval`` over several runs, the mean alone for one,
    ``n/a`` for a metric with no value. Every table of results (markdown, HTML) lays out these cells.

    Example:
        >>> table_cells(summarise([{"length": 20.0, "rouge_l": 0.3}, {"length": 30.0, "rouge_l": 0.4}, {"length": 25.0, "rouge_l": 0.5}]))
        ['n/a', 'n/a', 'n/a', '0.400 ± 0.248', '25.0 ± 12.4']
        >>> table_cells(summarise([{"dist_1": 0.58}], columns=[("dist_1", "Dist-1 ↑")]), columns=[("dist_1", "Dist-1 ↑")])
        ['0.580']
    """
    cells = []
    for key, _ in columns:
        cell = row.get(key)
        if cell is None:
            cells.append("n/a")
            continue
        cells.append(format_estimate(key, cell["mean"], cell["ci95"] if row.get("runs", 1) > 1 else None))
    return cells


def markdown_table(
    summary: Mapping[str, Mapping[str, Any]],
    caption: str = "",
    first_column: str = "Policy",
    *,
    columns: Sequence[tuple[str, str]] = METRIC_COLUMNS,
) -> str:
    """The paper's table layout: one row per policy, one column per metric of ``columns``, ``mean ± 95% CI``.

    Example:
        >>> s = {"SFT": summarise([{"relevance_ratio": .5, "factuality_ratio": .6, "completeness": .7, "rouge_l": .3, "length": 20}])}
        >>> print(markdown_table(s).splitlines()[2])
        | SFT | 0.500 | 0.600 | 0.700 | 0.300 | 20.0 |
        >>> detox = [("avg_max_toxicity", "Avg. max tox. ↓"), ("perplexity", "PPL ↓")]
        >>> print(markdown_table({"GPT-2": summarise([{"avg_max_toxicity": .527, "perplexity": 11.31}], columns=detox)},
        ...                      columns=detox))
        | Policy | Avg. max tox. ↓ | PPL ↓ |
        | --- | --- | --- |
        | GPT-2 | 0.527 | 11.31 |
        <BLANKLINE>
    """
    header = f"| {first_column} | " + " | ".join(title for _, title in columns) + " |"
    lines = [header, "|" + " --- |" * (len(columns) + 1)]
    for name, row in summary.items():
        lines.append(f"| {name} | " + " | ".join(table_cells(row, columns=columns)) + " |")
    if caption:
        lines += ["", caption]
    return "\n".join(lines) + "\n"


def scorers_note(scorers: Mapping[str, Any] | None) -> str:
    """The sentence of a report's caption that says what scored it (``scorers``: the ``scored_by`` record of its
    ``results.json``, :func:`fg_env.rewards.versions.scored_by`).

    Example:
        >>> scorers_note({"annotator": "2026.12.0"})
        'Scored by annotator 2026.12.0.'
    """
    said = scorer_caption(scorers)
    return f"{said[:1].upper()}{said[1:]}."


def _notes(notes: Sequence[str], scorers: Mapping[str, Any] | None = None) -> str:
    """The caption's closing notes, then what scored the table (``scorers``, when given)."""
    return "".join(f" {note}." for note in notes) + ("" if scorers is None else f" {scorers_note(scorers)}")


def comparison_caption(
    questions: int,
    episodes_per_run: int,
    seeds: Sequence[int],
    notes: Sequence[str] = (),
    *,
    split: str = "dev",
    dataset: str = "the built-in world",
    trainer: str = "PPO",
    scorers: Mapping[str, Any] | None = None,
) -> str:
    """The caption of the comparison table: evaluation set, training budget, seeds, runs cut short, and what
    scored it (``scorers``: the ``scored_by`` record of ``results.json``, :mod:`fg_env.rewards.versions`).

    Example:
        >>> comparison_caption(24, 64, [0, 1, 2])
        'Greedy decoding on 24 dev questions of the built-in world; PPO: 64 episodes per run, mean ± half-width of the 95% confidence interval (Student t) over seeds 0, 1, 2.'
        >>> comparison_caption(24, 64, [0, 1], split="test").split(";")[0]
        'Greedy decoding on 24 test questions of the built-in world'
        >>> comparison_caption(24, 64, [0], scorers={"annotator": "2026.12.0"}).split(". ")[-1]
        'Scored by annotator 2026.12.0.'
    """
    return (
        f"Greedy decoding on {questions} {split} questions of {dataset}; {trainer}: {episodes_per_run} "
        f"episodes per run, {SPREAD} over seeds {', '.join(map(str, seeds))}." + _notes(notes, scorers)
    )


def sweep_caption(
    component: str,
    weights: dict[str, float],
    episodes_per_run: int,
    questions: int,
    seeds: Sequence[int],
    notes: Sequence[str] = (),
    scorers: Mapping[str, Any] | None = None,
) -> str:
    """The caption of a weight sweep's table: the weights held fixed, budget, evaluation set, seeds, and what
    scored it (``scorers``, as :func:`comparison_caption`).

    Example:
        >>> sweep_caption("relevance", {"relevance": 0.3, "factuality": 0.5, "completeness": 0.3}, 64, 24, [0])
        'Fine-grained PPO, other weights factuality 0.5, completeness 0.3; 64 episodes per run; greedy decoding on 24 dev questions; seeds 0.'
    """
    others = ", ".join(f"{name} {weight:g}" for name, weight in weights.items() if name != component)
    spread = f"; {SPREAD}" if len(seeds) > 1 else ""
    return (
        f"Fine-grained PPO, other weights {others}; {episodes_per_run} episodes per run; "
        f"greedy decoding on {questions} dev questions; seeds {', '.join(map(str, seeds))}{spread}."
        + _notes(notes, scorers)
    )


def plot_learning_curves(curves: dict[str, list[list[dict[str, Any]]]], path: str | os.PathLike[str]) -> Path:
    """Training return and KL against episodes, mean over seeds with a min-max band (KL where the trainer
    reports it)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for scheme, runs in curves.items():
        if not runs or not runs[0]:
            continue
        length = min(len(run) for run in runs)
        episodes = [runs[0][i]["episodes"] for i in range(length)]
        for axis, key in zip(axes, ("return", "kl")):
            if any(key not in run[i] for run in runs for i in range(length)):
                continue  # a trainer without a reference policy reports no KL
            values = np.array([[run[i][key] for i in range(length)] for run in runs])
            (line,) = axis.plot(episodes, values.mean(axis=0), label=f"{scheme} ({len(runs)} seeds)")
            axis.fill_between(episodes, values.min(axis=0), values.max(axis=0), color=line.get_color(), alpha=0.2)
    axes[0].set(title="training return (weighted reward per answer)", xlabel="episodes", ylabel="return")
    axes[1].set(title="KL(policy || SFT) per answer", xlabel="episodes", ylabel="nats")
    for axis in axes:
        axis.grid(alpha=0.3)
        if axis.lines:
            axis.legend()
    return save_figure(fig, path)


def paired_comparison(
    a: Sequence[Mapping[str, Any]],
    b: Sequence[Mapping[str, Any]],
    confidence: float = 0.95,
    *,
    columns: Sequence[tuple[str, str]] = METRIC_COLUMNS,
) -> dict[str, dict[str, float]]:
    """Per metric of ``columns``, :func:`paired_difference` of two arms' evaluations paired run by run (the same
    seed and questions): the mean of ``a - b``, its confidence interval and the paired t-test's p-value.

    Example:
        >>> a = [{"length": 50.0}, {"length": 52.0}, {"length": 49.0}]
        >>> b = [{"length": 55.0}, {"length": 54.0}, {"length": 56.0}]
        >>> round(paired_comparison(a, b)["length"]["mean"], 3)
        -4.667
    """
    if len(a) != len(b):
        raise InvalidValueError(f"paired arms need one run per seed each, got {len(a)} and {len(b)} runs")
    result = {}
    for key, _ in columns:
        if all(run.get(key) is not None for run in [*a, *b]):
            result[key] = paired_difference([run[key] for run in a], [run[key] for run in b], confidence)
    return result


def paired_table(
    differences: Mapping[str, Mapping[str, float]],
    a: str,
    b: str,
    *,
    columns: Sequence[tuple[str, str]] = METRIC_COLUMNS,
) -> str:
    """The markdown table of :func:`paired_comparison`: one row per metric, titled as in ``columns``.

    Example:
        >>> d = paired_comparison([{"length": 50.0}, {"length": 52.0}], [{"length": 55.0}, {"length": 54.0}])
        >>> print(paired_table(d, "fine-grained", "holistic").splitlines()[2])
        | Length (words) | -3.5 | [-22.6, 15.6] | 0.258 |
        >>> ppl = [("perplexity", "PPL ↓")]
        >>> d = paired_comparison([{"perplexity": 10.0}, {"perplexity": 12.0}], [{"perplexity": 11.0}, {"perplexity": 14.0}],
        ...                       columns=ppl)
        >>> print(paired_table(d, "fine-grained", "holistic", columns=ppl).splitlines()[2])
        | PPL ↓ | -1.50 | [-7.85, 4.85] | 0.205 |
    """
    titles = dict(columns)
    lines = [
        f"| {a} − {b} | mean difference | 95% CI | p (paired t) |",
        "| --- | --- | --- | --- |",
    ]
    for key, d in differences.items():
        digits = _digits(key)
        lines.append(
            f"| {titles[key]} | {d['mean']:.{digits}f} | [{d['low']:.{digits}f}, {d['high']:.{digits}f}] "
            f"| {d['p_value']:.3g} |"
        )
    return "\n".join(lines) + "\n"


def _mean_curve(
    runs: Sequence[Sequence[Mapping[str, Any]]], key: str, unit: str = "episodes", sign: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """The ``unit`` (episodes, steps) and the mean over runs of ``key`` at each evaluation point the runs share,
    times ``sign`` (-1 turns a lower-is-better metric into one that rises as it improves)."""
    length = min(len(run) for run in runs)
    episodes = np.array([runs[0][i][unit] for i in range(length)], dtype=np.float64)
    values = np.array([[run[i][key] for i in range(length)] for run in runs], dtype=np.float64)
    return episodes, sign * values.mean(axis=0)


def episodes_to_reach(episodes: np.ndarray, curve: np.ndarray, target: float) -> float | None:
    """The episode count at which ``curve`` first reaches ``target`` (linear between evaluation points;
    0 when it starts there), or None when it never does. A point without a value (NaN: a ratio of
    answers that had nothing to judge, such as empty answers) never reaches the target, and the
    crossing after it is placed at the first point that does.

    Example:
        >>> round(episodes_to_reach(np.array([0, 80, 160]), np.array([0.5, 0.6, 0.8]), 0.7), 6)
        120.0
        >>> episodes_to_reach(np.array([0, 80]), np.array([0.5, 0.6]), 0.7) is None
        True
        >>> float(episodes_to_reach(np.array([0, 80, 160]), np.array([np.nan, 0.8, 0.9]), 0.7))
        80.0
    """
    above = np.flatnonzero(np.nan_to_num(curve, nan=-np.inf) >= target)
    if above.size == 0:
        return None
    i = int(above[0])
    if i == 0:
        return 0.0
    if np.isnan(curve[i - 1]):
        return float(episodes[i])
    rise = curve[i] - curve[i - 1]
    return float(episodes[i - 1] + (target - curve[i - 1]) / rise * (episodes[i] - episodes[i - 1]))


def sample_efficiency(
    candidate: Sequence[Sequence[Mapping[str, Any]]],
    reference: Sequence[Sequence[Mapping[str, Any]]],
    *,
    metrics: Sequence[str] = CURVE_METRICS,
    lower_is_better: Collection[str] = (),
    bootstrap: int = 2000,
    seed: int = 0,
    unit: str = "episodes",
) -> dict[str, dict[str, Any]]:
    """Episodes (or another ``unit`` of training the curves count, such as ``timesteps``) the ``candidate``
    arm needs to reach the ``reference`` arm's final score, per metric.

    Each arm is a list of runs (one per seed), each run its evaluation curve: points with ``unit``
    and the metrics, the first point the policy both start from. The target is the reference's final
    score averaged over its runs; the episodes are where the candidate's mean curve first reaches it.
    The 95% interval resamples the seeds of both arms (percentile bootstrap); ``reached_share`` is the
    share of resamples that reach the target within the budget (below 0.975, the interval's upper end
    is None: beyond the budget). ``start`` is the candidate's first score: a target at or below it
    (the reference ended no better than it started) says nothing of speed.

    A metric of ``lower_is_better`` (toxicity, perplexity) reaches the target at or below it, and its start
    says nothing of speed when the target is at or above it; ``target`` and ``start`` are still the metric's
    own values, and each row records ``lower_is_better`` for :func:`sample_efficiency_table`.

    Example:
        >>> run = lambda *v: [{"episodes": 80 * i, "completeness": x} for i, x in enumerate(v)]
        >>> fast, slow = [run(0.1, 0.5, 0.6), run(0.1, 0.4, 0.6)], [run(0.1, 0.2, 0.3), run(0.1, 0.25, 0.35)]
        >>> result = sample_efficiency(fast, slow, metrics=["completeness"], bootstrap=200)["completeness"]
        >>> round(result["target"], 3), round(result["episodes"], 1), result["budget"]
        (0.325, 51.4, 160)

        Toxicity falls: 0.4 -> 0.2 -> 0.1 reaches the reference's final 0.3 after 40 of the first 80 episodes.

        >>> tox = lambda *v: [{"episodes": 80 * i, "avg_max_toxicity": x} for i, x in enumerate(v)]
        >>> result = sample_efficiency([tox(0.4, 0.2, 0.1)], [tox(0.4, 0.35, 0.3)], metrics=["avg_max_toxicity"],
        ...                            lower_is_better={"avg_max_toxicity"}, bootstrap=20)["avg_max_toxicity"]
        >>> round(result["target"], 3), round(result["start"], 3), round(result["episodes"], 1), result["lower_is_better"]
        (0.3, 0.4, 40.0, True)
    """
    rng = np.random.default_rng(seed)
    budget = int(min(run[-1][unit] for run in reference))
    result: dict[str, dict[str, Any]] = {}
    for key in metrics:
        if any(point.get(key) is None for run in [*candidate, *reference] for point in run):
            continue
        # A lower-is-better metric negated rises as it improves: "reaching" the target is then getting to or
        # past it from below, all that episodes_to_reach knows. Target and start are reported unnegated.
        sign = -1.0 if key in lower_is_better else 1.0
        target = sign * float(np.mean([run[-1][key] for run in reference]))
        episodes = episodes_to_reach(*_mean_curve(candidate, key, unit, sign), target)
        draws = []
        for _ in range(bootstrap):
            c = [candidate[i] for i in rng.integers(len(candidate), size=len(candidate))]
            r = [reference[i] for i in rng.integers(len(reference), size=len(reference))]
            r_target = sign * float(np.mean([run[-1][key] for run in r]))
            draws.append(episodes_to_reach(*_mean_curve(c, key, unit, sign), r_target))
        reached = np.array([d for d in draws if d is not None])
        share = reached.size / bootstrap
        low = float(np.percentile(reached, 2.5)) if reached.size else None
        high = float(np.quantile(np.concatenate([reached, np.full(bootstrap - reached.size, np.inf)]), 0.975))
        result[key] = {
            "target": sign * target,
            "start": float(np.mean([run[0][key] for run in candidate])),
            "lower_is_better": sign < 0,
            "episodes": episodes,
            "low": low,
            "high": None if not np.isfinite(high) else high,
            "reached_share": share,
            "budget": budget,
            "unit": unit,  # what "episodes", "low", "high" and "budget" count
        }
    return result


def sample_efficiency_table(
    result: Mapping[str, Mapping[str, Any]],
    candidate: str,
    reference: str,
    *,
    unit: str = "episodes",
    titles: Mapping[str, str] | None = None,
    columns: Sequence[tuple[str, str]] = METRIC_COLUMNS,
) -> str:
    """The markdown table of :func:`sample_efficiency`: one row per metric, titled as in ``columns`` (or
    ``titles``, which take precedence). A row the reference did not improve on the start of (for a
    lower-is-better metric: ended at or above it) has no speed to read.

    Example:
        >>> row = {"target": 0.3, "start": 0.2, "episodes": 120.0, "low": 80.0, "high": None, "reached_share": 0.9,
        ...        "budget": 320}
        >>> print(sample_efficiency_table({"completeness": row}, "fine-grained", "holistic").splitlines()[2])
        | Comp. ↑ | 0.300 | 120 | [80, > 320] | 62% |
        >>> print(sample_efficiency_table({"completeness": {**row, "target": 0.15}}, "fine-grained", "holistic").splitlines()[2])
        | Comp. ↑ | 0.150 | n/a: holistic ended at or below the start (0.200) | n/a | n/a |
        >>> tox = {**row, "target": 0.45, "start": 0.4, "lower_is_better": True}
        >>> print(sample_efficiency_table({"avg_max_toxicity": tox}, "fine-grained", "holistic",
        ...                               columns=[("avg_max_toxicity", "Avg. max tox. ↓")]).splitlines()[2])
        | Avg. max tox. ↓ | 0.450 | n/a: holistic ended at or above the start (0.400) | n/a | n/a |
    """
    titles = {**dict(columns), **dict(titles or {})}
    lines = [
        f"| metric | {reference}'s final score | {unit} {candidate} needs to reach it | 95% CI "
        f"| saved of {reference}'s budget |",
        "| --- | --- | --- | --- | --- |",
    ]
    for key, row in result.items():
        budget = row["budget"]
        # Rows of results written before lower_is_better was recorded are all higher-is-better metrics.
        lower = bool(row.get("lower_is_better", False))
        if (row["target"] >= row["start"]) if lower else (row["target"] <= row["start"]):
            lines.append(
                f"| {titles[key]} | {row['target']:.3f} | n/a: {reference} ended at or "
                f"{'above' if lower else 'below'} the start ({row['start']:.3f}) | n/a | n/a |"
            )
            continue
        if row["episodes"] is None:
            needs, saved = f"not within {budget}", "n/a"
        else:
            needs, saved = f"{row['episodes']:.0f}", f"{1 - row['episodes'] / budget:.0%}"
        low = "n/a" if row["low"] is None else f"{row['low']:.0f}"
        high = f"> {budget}" if row["high"] is None else f"{row['high']:.0f}"
        lines.append(f"| {titles[key]} | {row['target']:.3f} | {needs} | [{low}, {high}] | {saved} |")
    return "\n".join(lines) + "\n"


def plot_eval_curves(
    curves: Mapping[str, Sequence[Sequence[Mapping[str, Any]]]],
    path: str | os.PathLike[str],
    *,
    metrics: Sequence[str] = CURVE_METRICS,
    columns: Sequence[tuple[str, str]] = METRIC_COLUMNS,
) -> Path:
    """Greedy evaluation ``metrics`` against PPO episodes, one panel each titled as in ``columns`` (less its
    arrow; the key for a metric not there), per arm: mean over seeds with a 95% CI band.

    Example:
        >>> import tempfile
        >>> run = lambda *v: [{"episodes": 80 * i, "perplexity": x} for i, x in enumerate(v)]
        >>> path = plot_eval_curves({"fine-grained": [run(12.0, 11.5), run(12.0, 11.0)]}, Path(tempfile.mkdtemp()) / "c.png",
        ...                         metrics=["perplexity"], columns=[("perplexity", "PPL ↓")])
        >>> path.read_bytes()[1:4]  # a PNG's signature
        b'PNG'
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    titles = dict(columns)
    # squeeze=False: one metric is one panel, still in a row of axes.
    fig, grid = plt.subplots(1, len(metrics), figsize=(4 * len(metrics), 3.6), squeeze=False)
    axes = grid[0]
    for scheme, runs in curves.items():
        if not runs:
            continue
        length = min(len(run) for run in runs)
        episodes = [runs[0][i]["episodes"] for i in range(length)]
        for axis, key in zip(axes, metrics):
            cis = [mean_ci([run[i][key] for run in runs]) for i in range(length)]
            (line,) = axis.plot(episodes, [c["mean"] for c in cis], marker="o", label=f"{scheme} ({len(runs)} seeds)")
            axis.fill_between(
                episodes, [c["low"] for c in cis], [c["high"] for c in cis], color=line.get_color(), alpha=0.2
            )
    for axis, key in zip(axes, metrics):
        axis.set(title=titles.get(key, key).rstrip(" ↑↓"), xlabel="PPO episodes")
        axis.grid(alpha=0.3)
    axes[0].legend()
    return save_figure(fig, path)


def plot_sweep(
    component: str,
    values: Sequence[float],
    summaries: Sequence[dict[str, Any]],
    start: dict[str, Any],
    path: str | os.PathLike[str],
) -> Path:
    """Answer length and the two error-free ratios against one component's weight (error bars: 95% CI over seeds)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = (
        ("length", "length (words)"),
        ("relevance_ratio", "relevance ratio"),
        ("factuality_ratio", "factuality ratio"),
    )
    fig, axes = plt.subplots(1, len(panels), figsize=(12, 3.6))
    for axis, (key, title) in zip(axes, panels):
        means = [row[key]["mean"] if row.get(key) else np.nan for row in summaries]
        spreads = [row[key]["ci95"] if row.get(key) else 0.0 for row in summaries]
        axis.errorbar(values, means, yerr=spreads, marker="o", capsize=3, label="fine-grained PPO")
        if start.get(key):
            axis.axhline(start[key]["mean"], color="grey", linestyle="--", label="SFT (start)")
        axis.set(title=title, xlabel=f"{component} weight")
        axis.grid(alpha=0.3)
    axes[0].legend()
    return save_figure(fig, path)


def save_figure(fig: Any, path: str | os.PathLike[str]) -> Path:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)
