"""HTML views of scored answers, in the style of Figure 1 of Wu et al. (2023): each segment of an answer
coloured by its reward and labelled with its error type.

:func:`answer_html` draws one answer from its scored segments (``info["segments"]`` of the steps that
wrote it) as an HTML fragment; :func:`html_page` wraps fragments into a standalone page. The environment's
``render_mode="html"`` and ``fg-env compare``'s ``report.html`` are built from these two. Only the
standard library is used, and every piece of text is escaped, so any answer (Unicode, ``<script>``) is
shown as written and never run.

Relevance (sub-sentence) and factuality (sentence) segments overlap, so an answer is drawn once per
segment-level component, one line each; episode-level segments (completeness) are listed below it.

Example:
    >>> segments = [
    ...     {"component": "relevance", "granularity": "sub-sentence", "start": 0, "end": 8, "value": 1.0, "label": None},
    ...     {"component": "factuality", "granularity": "sentence", "start": 0, "end": 8, "value": -1.0, "label": "Wrong-Grounding"},
    ...     {"component": "completeness", "granularity": "episode", "start": 0, "end": 8, "value": 0.5, "label": None},
    ... ]
    >>> page = html_page("One answer", answer_html("Who won?", "Ann won.", segments))
    >>> page.startswith("<!DOCTYPE html>"), page.count('class="fg-seg"'), page.count('class="fg-line"')
    (True, 2, 2)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from fg_env.errors import InvalidValueError

__all__ = ["PAGE_CSS", "answer_html", "html_page", "segment_colour"]

# Colours of positive and negative rewards (Tailwind's green-600 and red-600): readable as backgrounds
# at any strength, and told apart by most colour-blind readers through the label badges anyway.
_POSITIVE = (22, 163, 74)
_NEGATIVE = (220, 38, 38)
_NEUTRAL = "rgba(120, 120, 120, 0.12)"

PAGE_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em; color: #1f2328; line-height: 1.5; }
h1, h2, h3 { font-weight: 600; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #d0d7de; padding: 0.3em 0.7em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
caption { caption-side: bottom; text-align: left; color: #57606a; font-size: 0.9em; padding-top: 0.4em; }
img { max-width: 100%; }
.fg-answer { border: 1px solid #d0d7de; border-radius: 6px; padding: 0.6em 0.9em; margin: 0.5em 0; }
.fg-question { font-weight: 600; margin-bottom: 0.4em; }
.fg-line { margin: 0.3em 0; }
.fg-component { display: inline-block; min-width: 7em; color: #57606a; font-size: 0.85em; }
.fg-text { white-space: pre-wrap; }
.fg-seg { border-radius: 3px; padding: 0.05em 0; }
.fg-label { font-size: 0.7em; font-weight: 600; color: #fff; background: #57606a; border-radius: 3px;
  padding: 0 0.3em; margin: 0 0.2em; white-space: nowrap; }
.fg-episode { list-style: none; padding: 0; margin: 0.4em 0 0 0; font-size: 0.9em; }
.fg-episode li { display: inline-block; border-radius: 3px; padding: 0.1em 0.5em; margin-right: 0.5em; }
.fg-legend { font-size: 0.85em; color: #57606a; margin-top: 0.5em; }
.fg-legend span { display: inline-block; border-radius: 3px; padding: 0 0.4em; margin-right: 0.3em; }
.fg-empty { color: #8c959f; font-style: italic; }
.fg-samples { display: grid; gap: 1em; overflow-x: auto; }
.fg-arm h4 { margin: 0.2em 0; }
"""


def segment_colour(value: float) -> str:
    """The background of a segment worth ``value``: green for a reward, red for a penalty, stronger as
    ``|value|`` grows to 1 (the paper's reward models score in [-1, 1]; larger values saturate); a
    neutral grey for 0.

    Example:
        >>> segment_colour(1.0), segment_colour(-0.5), segment_colour(0.0)
        ('rgba(22, 163, 74, 0.70)', 'rgba(220, 38, 38, 0.43)', 'rgba(120, 120, 120, 0.12)')
    """
    value = float(value)
    if value == 0.0 or value != value:  # 0, or NaN: nothing to say either way
        return _NEUTRAL
    red, green, blue = _POSITIVE if value > 0 else _NEGATIVE
    # Never fully transparent, so that a faint reward still shows as a segment.
    alpha = 0.15 + 0.55 * min(abs(value), 1.0)
    return f"rgba({red}, {green}, {blue}, {alpha:.2f})"


def _tooltip(component: str, value: float, label: str | None) -> str:
    return f"{component} {value:+.2f}" + (f" · {label}" if label else "")


def _attributes(segment: Mapping[str, Any]) -> str:
    """The ``data-*`` attributes of a segment (exact values, so that the page can be read back)."""
    label = segment.get("label")
    return (
        f'data-component="{escape(str(segment["component"]))}" data-value="{float(segment["value"])!r}" '
        f'data-label="{escape(str(label or ""))}"'
    )


def _label_badge(label: str | None) -> str:
    return f'<sup class="fg-label">{escape(str(label))}</sup>' if label else ""


def _component_line(component: str, response: str, segments: Sequence[Mapping[str, Any]]) -> str:
    """One line of the answer with ``component``'s segments coloured; text between them stays plain."""
    pieces, cursor = [], 0
    for segment in sorted(segments, key=lambda s: (int(s["start"]), int(s["end"]))):
        start, end = int(segment["start"]), int(segment["end"])
        if start < cursor:
            raise InvalidValueError(f"two {component} segments overlap at character {start}: one line cannot show both")
        value, label = float(segment["value"]), segment.get("label")
        pieces.append(escape(response[cursor:start]))
        pieces.append(
            f'<span class="fg-seg" {_attributes(segment)} data-start="{start}" data-end="{end}" '
            f'title="{escape(_tooltip(component, value, label))}" style="background: {segment_colour(value)}">'
            f"{escape(response[start:end])}</span>{_label_badge(label)}"
        )
        cursor = end
    pieces.append(escape(response[cursor:]))
    return (
        f'<div class="fg-line" data-component="{escape(component)}">'
        f'<span class="fg-component">{escape(component)}:</span> '
        f'<span class="fg-text">{"".join(pieces)}</span></div>'
    )


def _check_spans(response: str, segments: Sequence[Mapping[str, Any]]) -> None:
    for segment in segments:
        start, end = int(segment["start"]), int(segment["end"])
        if not 0 <= start <= end <= len(response):
            raise InvalidValueError(f"segment [{start}, {end}) lies outside the answer ({len(response)} characters)")
        text = segment.get("text")
        # Segments of another answer (an earlier episode, a truncated copy) would colour the wrong words.
        if text is not None and text != response[start:end]:
            raise InvalidValueError(
                f"segment [{start}, {end}) reads {text!r} but the answer there reads {response[start:end]!r}"
            )


def _legend() -> str:
    steps = (("+1", 1.0), ("+0.5", 0.5), ("0", 0.0), ("-0.5", -0.5), ("-1", -1.0))
    swatches = "".join(f'<span style="background: {segment_colour(v)}">{text}</span>' for text, v in steps)
    return (
        f'<div class="fg-legend">reward: {swatches} green rewards, red penalises, stronger for larger '
        "magnitude; a badge names the error type (hover a segment for its value)</div>"
    )


def answer_html(
    question: str, response: str, segments: Sequence[Mapping[str, Any]], *, show_question: bool = True
) -> str:
    """An answer as an HTML fragment (a ``<div class="fg-answer">``): the question, then one line of the
    answer per segment-level component with that component's segments coloured by value, then the
    episode-level segments, then a legend.

    ``segments`` are entries of ``info["segments"]`` (:class:`~fg_env.segments.SegmentInfo`: component,
    granularity, start, end, value, label; text, if given, is checked against ``response``), all with
    spans in ``response``. Each segment becomes a ``<span class="fg-seg">`` with ``data-component``,
    ``data-value`` and ``data-label`` and a tooltip, followed by a ``<sup class="fg-label">`` badge when
    it has an error label. Each line's text, badges left out, is ``response`` exactly. An answer with
    no segment-level segments (before its first step) is one plain ``answer`` line.
    ``show_question=False`` leaves the question out (a page that shows it once for several answers).

    Example:
        >>> html = answer_html("Who won?", "Ann <b>won</b>.", [
        ...     {"component": "factuality", "granularity": "sentence", "start": 0, "end": 15,
        ...      "value": -1.0, "label": "Wrong-Grounding"}])
        >>> html.count('class="fg-seg"'), '<sup class="fg-label">Wrong-Grounding</sup>' in html
        (1, True)
        >>> "<b>" in html, "Ann &lt;b&gt;won&lt;/b&gt;." in html
        (False, True)
    """
    _check_spans(response, segments)
    by_component: dict[str, list[Mapping[str, Any]]] = {}
    episode: list[Mapping[str, Any]] = []
    for segment in segments:
        if segment.get("granularity") == "episode":
            episode.append(segment)
        else:
            by_component.setdefault(str(segment["component"]), []).append(segment)
    parts = ['<div class="fg-answer">']
    if show_question:
        parts.append(f'<div class="fg-question">Q: {escape(question)}</div>')
    lines = [_component_line(name, response, segs) for name, segs in by_component.items()]
    parts += lines or [_component_line("answer", response, [])]
    if episode:
        items = "".join(
            f'<li class="fg-episode-seg" {_attributes(s)} title="{escape(_tooltip(str(s["component"]), float(s["value"]), s.get("label")))}" '
            f'style="background: {segment_colour(float(s["value"]))}">{escape(str(s["component"]))}: '
            f"{float(s['value']):+.2f}{_label_badge(s.get('label'))}</li>"
            for s in episode
        )
        parts.append(f'<ul class="fg-episode">{items}</ul>')
    parts += [_legend(), "</div>"]
    return "".join(parts)


def html_page(title: str, body: str) -> str:
    """A standalone HTML page around ``body`` (HTML, inserted as is): UTF-8, inline CSS, no external
    assets and no scripts, so it opens offline and from any folder.

    Example:
        >>> page = html_page("Q & A", "<p>hi</p>")
        >>> "<title>Q &amp; A</title>" in page, '<meta charset="utf-8">' in page, "<script" in page
        (True, True, False)
    """
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{PAGE_CSS}</style>\n</head>\n"
        f"<body>\n<h1>{escape(title)}</h1>\n{body}\n</body>\n</html>\n"
    )
