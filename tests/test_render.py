"""HTML views of scored answers (fg_env.render), the environment's render_mode="html", and the comparison's
report.html: their structure (segments, labels, escaping, text that reassembles), not their looks."""

from __future__ import annotations

import html
from html.parser import HTMLParser

import gymnasium as gym
import pytest

import fg_env  # noqa: F401 - registers the environment
from conftest import TinyDataset, tiny_models
from fg_env.envs.answers import play_answer
from fg_env.envs.qa import FineGrainedQAEnv
from fg_env.errors import UnknownChoiceError
from fg_env.render import answer_html, html_page

RESPONSE = "Mira Holt was born in 1950, and the weather was mild. She was born in 1999 <script>alert('x')</script> é ✓."


def _segment(component, granularity, start, end, value, label=None):
    return {
        "component": component,
        "granularity": granularity,
        "start": start,
        "end": end,
        "text": RESPONSE[start:end],
        "value": value,
        "label": label,
    }


SECOND = RESPONSE.index("She")
SEGMENTS = [
    _segment("relevance", "sub-sentence", 0, 27, 1.0),
    _segment("relevance", "sub-sentence", 28, SECOND - 1, -1.0, "Irrelevant"),
    _segment("factuality", "sentence", 0, SECOND - 1, 1.0),
    _segment("relevance", "sub-sentence", SECOND, len(RESPONSE), 0.5),
    _segment("factuality", "sentence", SECOND, len(RESPONSE), -1.0, "Wrong-Grounding"),
    _segment("completeness", "episode", 0, len(RESPONSE), 0.25, "Missing-Answer"),
]


class _Page(HTMLParser):
    """What the tests read back from a page: every element's attributes by class, and the text of each
    answer line with the label badges left out (they are not part of the answer)."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.lines: list[tuple[str, str]] = []  # (component, text)
        self.badges: list[str] = []
        self._stack: list[str] = []  # the class of every open element
        self._line: tuple[str, list[str]] | None = None
        self.feed(page)
        self.close()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.elements.append((tag, attributes))
        cls = attributes.get("class") or ""
        if cls == "fg-line":
            self._line = (attributes["data-component"] or "", [])
        if tag not in ("meta", "img", "br"):
            self._stack.append(cls)

    def handle_endtag(self, tag):
        cls = self._stack.pop()
        if cls == "fg-line" and self._line is not None:
            self.lines.append((self._line[0], "".join(self._line[1])))
            self._line = None

    def handle_data(self, data):
        if "fg-label" in self._stack:
            self.badges.append(data)
        elif "fg-text" in self._stack and self._line is not None:
            self._line[1].append(data)

    def with_class(self, cls: str) -> list[dict[str, str | None]]:
        return [attributes for _, attributes in self.elements if attributes.get("class") == cls]


def test_one_span_per_segment_with_its_data_attributes():
    page = _Page(answer_html("When was Mira Holt born?", RESPONSE, SEGMENTS))
    spans = page.with_class("fg-seg")
    segment_level = [s for s in SEGMENTS if s["granularity"] != "episode"]
    assert len(spans) == len(segment_level)
    drawn = sorted((s["data-component"], int(s["data-start"]), float(s["data-value"]), s["data-label"]) for s in spans)
    given = sorted((s["component"], s["start"], s["value"], s["label"] or "") for s in segment_level)
    assert drawn == given
    for span in spans:
        assert span["data-component"] in span["title"] and (span["data-label"] or "") in span["title"]
    # Green for a reward, red for a penalty (no segment here is worth 0, which is grey).
    colours = {float(s["data-value"]) > 0: s["style"].split("rgba(")[1][:10] for s in spans}
    assert colours[True] != colours[False]


def test_labels_are_visible_badges():
    page = _Page(answer_html("q", RESPONSE, SEGMENTS))
    assert sorted(page.badges) == ["Irrelevant", "Missing-Answer", "Wrong-Grounding"]


def test_every_component_line_reassembles_to_the_response():
    page = _Page(answer_html("q", RESPONSE, SEGMENTS))
    assert [component for component, _ in page.lines] == ["relevance", "factuality"]
    for _, text in page.lines:
        assert text == RESPONSE


def test_user_text_is_escaped():
    question = "<script>alert(1)</script> Who?"
    fragment = answer_html(question, RESPONSE, SEGMENTS)
    page = html_page("<script>title</script>", fragment)
    assert "<script" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in fragment
    assert html.escape(question) in fragment and "é ✓." in fragment
    # A label or component name is user text too (a user's reward model names them).
    hostile = [dict(SEGMENTS[0], component='rel"><b>', label="<i>bad</i>")]
    fragment = answer_html("q", RESPONSE, hostile)
    assert "<b>" not in fragment and "<i>" not in fragment
    assert _Page(fragment).with_class("fg-seg")[0]["data-component"] == 'rel"><b>'


def test_episode_segments_are_listed_below():
    page = _Page(answer_html("q", RESPONSE, SEGMENTS))
    episode = page.with_class("fg-episode-seg")
    assert [(e["data-component"], float(e["data-value"]), e["data-label"]) for e in episode] == [
        ("completeness", 0.25, "Missing-Answer")
    ]
    assert not any(s["data-component"] == "completeness" for s in page.with_class("fg-seg"))


def test_no_segment_is_one_plain_line_and_bad_spans_are_refused():
    page = _Page(answer_html("q", "Ann <won>.", []))
    assert page.lines == [("answer", "Ann <won>.")] and not page.with_class("fg-seg")
    with pytest.raises(ValueError, match="outside the answer"):
        answer_html("q", "short", [dict(SEGMENTS[0], text=None)])
    with pytest.raises(ValueError, match="reads"):
        answer_html("q", RESPONSE.upper(), SEGMENTS)
    with pytest.raises(ValueError, match="overlap"):
        answer_html("q", RESPONSE, [SEGMENTS[0], dict(SEGMENTS[0], start=5, text=RESPONSE[5:27])])


def test_page_is_standalone():
    page = html_page("t", "<p>x</p>")
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page and "<style>" in page
    assert "<script" not in page and "<link" not in page and "http" not in page


# ------------------------------------------------------------------------------------- the environment


def test_env_renders_html_after_steps_and_reset_clears():
    env = FineGrainedQAEnv(dataset=TinyDataset(), reward_models=tiny_models(), render_mode="html")
    env.reset(seed=0)
    _, _, _, _, first = env.step("Mira Holt was born in 1950, and the weather was mild.")
    _, _, _, _, second = env.step(" She was born in 1999.")
    page = env.render()
    assert isinstance(page, str) and page.startswith("<!DOCTYPE html>")
    parsed = _Page(page)
    scored = first["segments"] + second["segments"]
    assert len(parsed.with_class("fg-seg")) == len(scored) > 0
    assert {text for _, text in parsed.lines} == {env.response}
    assert "Wrong-Grounding" in parsed.badges and html.escape(env.example.question) in page
    env.reset(seed=1)
    assert not _Page(env.render()).with_class("fg-seg")


def test_html_mode_through_gym_make_with_wrappers():
    env = gym.make("FineGrainedQA-v0", split="dev", render_mode="html")
    assert "html" in env.metadata["render_modes"]
    played = play_answer(env, "The sky is green. It came out in 1954.", index=0)
    parsed = _Page(env.render())
    episode_segments = [s for info in played.infos for s in info["segments"]]
    assert len(parsed.with_class("fg-seg")) + len(parsed.with_class("fg-episode-seg")) == len(episode_segments)


def test_other_modes_keep_nothing_and_unknown_mode_raises():
    env = FineGrainedQAEnv(dataset=TinyDataset(), reward_models=tiny_models(), render_mode="ansi")
    env.reset(seed=0)
    env.step("Hello there.")
    assert env._rendered_segments == [] and "Hello there." in env.render()
    with pytest.raises(UnknownChoiceError):
        FineGrainedQAEnv(dataset=TinyDataset(), reward_models=tiny_models(), render_mode="svg")


# ------------------------------------------------------------------------------------- compare's report

ARMS = ["SFT", "random sentences", "PPO fine-grained", "PPO holistic"]


def _rows() -> dict[str, list[dict]]:
    """Evaluations as compare() gathers them (PPO: one per seed), with real dev questions in the samples."""
    from agents.experiments.evaluate import load_examples, metrics_of

    examples = load_examples("dev", 3)
    answers = {
        "SFT": [ex.references[0] for ex in examples],
        "random sentences": ["The sky is green. <script>alert(1)</script>", "", "It came out in 1954."],
        "PPO fine-grained": ["Ann won. " * 3, "Ann won.", "Bob lost."],
        "PPO holistic": [ex.references[0][:20] for ex in examples],
    }
    rows = {arm: [metrics_of(examples, answer_list)] for arm, answer_list in answers.items()}
    for arm in ("PPO fine-grained", "PPO holistic"):  # a second seed, whose samples the report leaves out
        rows[arm].append(metrics_of(examples, ["second seed"] * 3))
    return rows


def test_report_html_has_table_curves_and_every_arm_side_by_side(tmp_path):
    from agents.experiments.run import make_env
    from agents.reporting.html import write_report
    from agents.reporting.stats import summarise

    rows = _rows()
    (tmp_path / "results.md").write_text("| table |")
    path = write_report(
        tmp_path,
        {arm: summarise(evals) for arm, evals in rows.items()},
        rows,
        make_env("fine-grained", None, "dev", 6),
        caption="Greedy <decoding>.",
    )
    page = path.read_text(encoding="utf-8")
    parsed = _Page(page)
    assert path.name == "report.html" and page.startswith("<!DOCTYPE html>") and "<script" not in page
    assert len(parsed.with_class("fg-results")) == 1 and "<caption>Greedy &lt;decoding&gt;.</caption>" in page
    assert [page.count(f"<td>{arm}</td>") for arm in ARMS] == [1] * 4
    assert '<img src="learning_curve.png"' in page and '<a href="results.md">' in page
    assert len(parsed.with_class("fg-sample")) == 3
    assert [a["data-arm"] for a in parsed.with_class("fg-arm")] == ARMS * 3
    assert len(parsed.with_class("fg-answer")) == 12
    # Each column draws its arm's first-seed answer (what the env took of it), every line the whole of it.
    texts = [text for _, text in parsed.lines]
    first_seed = {s["answer"] for evals in rows.values() for s in evals[0]["samples"]}
    assert all(any(answer.startswith(text) for answer in first_seed) for text in texts)
    assert "second seed" not in page
    assert "Irrelevant" in parsed.badges or "Wrong-Grounding" in parsed.badges
    assert len(parsed.with_class("fg-episode-seg")) == 12  # completeness of every answer


def test_report_html_replays_old_samples_by_position(tmp_path):
    """Samples cached before example ids were stored (sft_eval.json, result.json): the i-th question."""
    from agents.experiments.run import make_env
    from agents.reporting.html import write_report
    from agents.reporting.stats import summarise

    rows = _rows()
    for evals in rows.values():
        for evaluation in evals:
            for sample in evaluation["samples"]:
                del sample["example_id"]
    path = write_report(
        tmp_path, {a: summarise(e) for a, e in rows.items()}, rows, make_env("fine-grained", None, "dev", 6), images=()
    )
    page = path.read_text(encoding="utf-8")
    assert "<img" not in page and len(_Page(page).with_class("fg-answer")) == 12
