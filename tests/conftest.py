"""Shared fixtures: a tiny hand-made dataset and keyword reward models, so that environment and
wrapper tests do not depend on the built-in world's generator; and the Perspective API's loopback stand-in
(``serve`` starts one, ``sleeps`` records the scorer's waits instead of sleeping them)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from _perspective_api import Api, Reply  # noqa: E402

from fg_env.data.base import QADataset  # noqa: E402
from fg_env.rewards.base import RewardModel, ScoringRequest, SegmentScore  # noqa: E402
from fg_env.rewards.toxicity import perspective as perspective_module  # noqa: E402
from fg_env.types import Granularity, Passage, QAExample  # noqa: E402

QA_FEEDBACK_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "qa_feedback"


class TinyDataset(QADataset):
    """Three questions about fictional people."""

    name = "tiny"
    splits = ("train", "dev")

    def _load_split(self, name: str) -> Sequence[QAExample]:
        people = [("Mira Holt", "1950", "Lisbon"), ("Aldo Brenn", "1962", "Oslo"), ("Kai Verde", "1977", "Quito")]
        examples = []
        for i, (person, year, city) in enumerate(people):
            passage = Passage(person, (f"{person} is a painter.", f"{person} was born in {year} in {city}.", "The weather was mild."))
            examples.append(
                QAExample(f"tiny-{name}-{i}", f"When was {person} born?", (passage,), (f"{person} was born in {year}.",))
            )
        return examples


class KeywordRelevance(RewardModel):
    """-1 for a sub-sentence mentioning the weather, else +1."""

    name, granularity, bounds = "relevance", Granularity.SUB_SENTENCE, (-1.0, 1.0)

    def score(self, requests: Sequence[ScoringRequest]) -> list[SegmentScore]:
        return [SegmentScore(-1.0, "Irrelevant") if "weather" in r.segment_text.lower() else SegmentScore(1.0) for r in requests]


class YearFactuality(RewardModel):
    """+1 for a sentence whose four-digit numbers all appear in the passages, else -1."""

    name, granularity, bounds = "factuality", Granularity.SENTENCE, (-1.0, 1.0)

    def score(self, requests: Sequence[ScoringRequest]) -> list[SegmentScore]:
        out = []
        for r in requests:
            context = r.example.context
            numbers = [w.strip(".,") for w in r.segment_text.split() if w.strip(".,").isdigit()]
            ok = all(n in context for n in numbers)
            out.append(SegmentScore(1.0) if ok else SegmentScore(-1.0, "Wrong-Grounding"))
        return out


class MentionsAnswer(RewardModel):
    """1 when the answer contains the gold year, else 0."""

    name, granularity, bounds = "completeness", Granularity.EPISODE, (0.0, 1.0)

    def score(self, requests: Sequence[ScoringRequest]) -> list[SegmentScore]:
        out = []
        for r in requests:
            year = [w.strip(".") for w in r.example.references[0].split() if w.strip(".").isdigit()][0]
            out.append(SegmentScore(1.0 if year in r.answer else 0.0))
        return out


def tiny_models() -> list[RewardModel]:
    return [KeywordRelevance(), YearFactuality(), MentionsAnswer()]


@pytest.fixture
def tiny_env():
    from fg_env.envs.qa import FineGrainedQAEnv

    return FineGrainedQAEnv(dataset=TinyDataset(), split="train", reward_models=tiny_models(), max_sentences=4)


# ------------------------------------------- the Perspective API's loopback stand-in (tests/_perspective_api.py)


@pytest.fixture
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    recorded: list[float] = []
    monkeypatch.setattr(perspective_module, "_sleep", recorded.append)
    return recorded


@pytest.fixture
def serve(no_proxy: None):  # noqa: ANN201
    servers: list[Api] = []

    def start(reply: Callable[[int, dict[str, Any]], Reply], port: int = 0) -> Api:
        servers.append(Api(reply, port))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def cli_error(capsys, argv: list[str]) -> str:
    """``fg-env argv``'s stderr, checked to be one line without a traceback after exit status 2 (what every
    command prints for bad input)."""
    from fg_env.cli import main

    try:
        status = main(argv)
    except SystemExit as stop:  # argparse's own errors
        status = stop.code
    err = capsys.readouterr().err
    assert status == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err
