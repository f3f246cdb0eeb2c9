"""The HTML report of an experiment (``fg-env compare``'s ``report.html``): the results table, the learning
curves, and sample answers of every policy side by side, each drawn with its fine-grained rewards.

The table's cells are those of ``results.md`` (:func:`agents.reporting.stats.table_cells`); each sample answer
is replayed through a fine-grained environment on the evaluation split
(:func:`fg_env.envs.answers.play_answer`) and drawn by :func:`fg_env.render.answer_html`, every segment
coloured by its reward and labelled with its error type. The page is one file with no scripts and no
external assets; the learning curves are the PNG beside it, linked relatively.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from agents.reporting.stats import METRIC_COLUMNS, table_cells
from fg_env.atomic import atomic_write_text
from fg_env.envs.answers import play_answer
from fg_env.render import answer_html, html_page
from fg_env.segments import SegmentInfo

__all__ = ["REPORT_NAME", "html_table", "sample_answers", "scored_answer", "write_report"]

REPORT_NAME = "report.html"


def html_table(
    summary: Mapping[str, Mapping[str, Any]],
    caption: str = "",
    first_column: str = "Policy",
    *,
    columns: Sequence[tuple[str, str]] = METRIC_COLUMNS,
) -> str:
    """The results table of ``results.md`` as an HTML ``<table>``: one row per policy, one column per metric of
    ``columns``, ``mean ± 95% CI``.

    Example:
        >>> from agents.reporting.stats import summarise
        >>> table = html_table({"SFT <1>": summarise([{"length": 20.0}])}, caption="Greedy decoding.")
        >>> "<td>SFT &lt;1&gt;</td>" in table, "<td>20.0</td>" in table, "<caption>Greedy decoding.</caption>" in table
        (True, True, True)
        >>> ppl = [("perplexity", "PPL ↓")]
        >>> html_table({"GPT-2": summarise([{"perplexity": 11.308}], columns=ppl)}, columns=ppl)
        '<table class="fg-results"><thead><tr><th>Policy</th><th>PPL ↓</th></tr></thead><tbody><tr><td>GPT-2</td><td>11.31</td></tr></tbody></table>'
    """
    header = "".join(f"<th>{escape(title)}</th>" for title in (first_column, *(t for _, t in columns)))
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in (name, *table_cells(row, columns=columns))) + "</tr>"
        for name, row in summary.items()
    )
    caption_html = f"<caption>{escape(caption)}</caption>" if caption else ""
    return f'<table class="fg-results">{caption_html}<thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>'


def sample_answers(rows: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """The sample answers of every row, question by question: ``[{"index", "question", "example_id",
    "answers": {row name: sample or None}}]``. A row of several runs (PPO seeds) shows its first run's.

    Samples are the first questions of the evaluation, in order, so sample ``i`` of every row answers
    the same question; ``example_id`` is None for samples stored before it was recorded.

    Example:
        >>> rows = {"SFT": [{"samples": [{"question": "Who?", "example_id": "q0", "answer": "Ann."}]}],
        ...         "PPO": [{"samples": []}, {"samples": [{"question": "Who?", "answer": "Bob."}]}]}
        >>> [(s["question"], s["answers"]["SFT"]["answer"], s["answers"]["PPO"]) for s in sample_answers(rows)]
        [('Who?', 'Ann.', None)]
    """
    firsts = {name: list(runs[0].get("samples", [])) if runs else [] for name, runs in rows.items()}
    count = max((len(samples) for samples in firsts.values()), default=0)
    out = []
    for i in range(count):
        answers = {name: samples[i] if i < len(samples) else None for name, samples in firsts.items()}
        first = next(s for s in answers.values() if s is not None)
        out.append(
            {"index": i, "question": first["question"], "example_id": first.get("example_id"), "answers": answers}
        )
    return out


def scored_answer(
    env: Any, answer: str, *, example_id: str | None = None, index: int | None = None
) -> tuple[str, list[SegmentInfo]]:
    """``answer`` played through ``env`` on its question: the environment's answer (cut at its
    ``max_sentences``, as evaluation cuts it) and every scored segment of the episode.

    Example:
        >>> import gymnasium as gym, fg_env
        >>> response, segments = scored_answer(gym.make("FineGrainedQA-v0", split="dev"), "The sky is green.", index=0)
        >>> response, [(s["component"], s["value"], s["label"]) for s in segments][1:]
        ('The sky is green.', [('factuality', 1.0, None), ('completeness', 0.0, 'Missing-Answer')])
    """
    played = play_answer(env, answer, example_id=example_id, index=index)
    return played.response, [segment for info in played.infos for segment in info.get("segments", [])]


def _sample_section(sample: Mapping[str, Any], env: Any) -> str:
    """One sample question with every row's answer to it, in columns."""
    columns = []
    for name, entry in sample["answers"].items():
        if entry is None:
            drawn = '<p class="fg-empty">no sample</p>'
        else:
            example_id = entry.get("example_id")
            # Samples cached before example ids were stored: the evaluation's first questions, in order.
            where: dict[str, Any] = {"example_id": example_id} if example_id else {"index": sample["index"]}
            response, segments = scored_answer(env, entry["answer"], **where)
            # The question is the section's heading; a column repeats it only if it answers another one.
            drawn = answer_html(
                entry["question"], response, segments, show_question=entry["question"] != sample["question"]
            )
        columns.append(f'<div class="fg-arm" data-arm="{escape(name)}"><h4>{escape(name)}</h4>{drawn}</div>')
    id_note = f" <small>({escape(sample['example_id'])})</small>" if sample.get("example_id") else ""
    grid = f"grid-template-columns: repeat({len(columns)}, minmax(16em, 1fr))"
    return (
        f'<section class="fg-sample" data-index="{sample["index"]}">'
        f"<h3>Question {sample['index'] + 1}: {escape(sample['question'])}{id_note}</h3>"
        f'<div class="fg-samples" style="{grid}">{"".join(columns)}</div></section>'
    )


def markdown_table_html(table: str) -> str:
    """A markdown table (``| a | b |`` lines, the second one the separator) as an HTML ``<table>``.

    Example:
        >>> markdown_table_html("| x | y |\\n| --- | --- |\\n| 1 | 2 |\\n")
        '<table class="fg-results"><tr><th>x</th><th>y</th></tr><tr><td>1</td><td>2</td></tr></table>'
    """
    rows = [line.strip().strip("|").split("|") for line in table.strip().splitlines() if line.strip().startswith("|")]
    if not rows:
        return ""
    head, body = rows[0], rows[2:]

    def cells(row: list[str], tag: str) -> str:
        return "".join(f"<{tag}>{escape(cell.strip())}</{tag}>" for cell in row)

    html = f"<tr>{cells(head, 'th')}</tr>" + "".join(f"<tr>{cells(row, 'td')}</tr>" for row in body)
    return f'<table class="fg-results">{html}</table>'


def write_report(
    out_dir: str | os.PathLike[str],
    summary: Mapping[str, Mapping[str, Any]],
    rows: Mapping[str, Sequence[Mapping[str, Any]]],
    env: Any,
    *,
    caption: str = "",
    title: str = "fg-env compare",
    images: Sequence[str] = ("learning_curve.png",),
    tables: Sequence[str] = (),
    columns: Sequence[tuple[str, str]] = METRIC_COLUMNS,
) -> Path:
    """Write ``out_dir/report.html``: the table of ``summary`` (its metrics ``columns``: :func:`html_table`), further markdown ``tables`` (the paired
    test, the sample efficiency), the figures ``images`` (files in ``out_dir``, linked relatively) and
    the sample answers of ``rows`` (row name ->
    evaluations of its runs, as :func:`agents.experiments.evaluate.metrics_of` returns them) side by side, each
    replayed through ``env`` (a fine-grained FineGrainedQA env on the evaluation split) to draw its
    rewards. Written atomically; returns its path.

    Example:
        >>> import gymnasium as gym, fg_env, tempfile
        >>> from agents.reporting.stats import summarise
        >>> evals = {"SFT": [{"length": 4.0, "samples": [{"question": "?", "answer": "The sky is green."}]}]}
        >>> path = write_report(tempfile.mkdtemp(), {"SFT": summarise(evals["SFT"])}, evals,
        ...                     gym.make("FineGrainedQA-v0", split="dev"), images=())
        >>> page = path.read_text(encoding="utf-8")
        >>> page.count('class="fg-answer"'), page.count('class="fg-seg"')
        (1, 2)
    """
    out = Path(out_dir)
    parts = ["<h2>Results</h2>", html_table(summary, caption, columns=columns)]
    present = [name for name in ("results.md", "results.json") if (out / name).is_file()]
    if present:
        parts.append("<p>" + ", ".join(f'<a href="{escape(n)}">{escape(n)}</a>' for n in present) + "</p>")
    parts += [markdown_table_html(table) for table in tables]
    if images:
        parts.append("<h2>Learning curves</h2>")
        parts += [f'<img src="{escape(image)}" alt="{escape(Path(image).stem)}">' for image in images]
    samples = sample_answers(rows)
    if samples:
        parts.append("<h2>Sample answers</h2>")
        parts += [_sample_section(sample, env) for sample in samples]
    path = out / REPORT_NAME
    atomic_write_text(path, html_page(title, "\n".join(parts)))
    return path
