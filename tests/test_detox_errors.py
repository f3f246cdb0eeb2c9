"""FineGrainedDetox-v0 given bad input, end to end (issue 22, part 7): through ``gym.make``, ``gym.make_vec``,
:class:`FineGrainedDetoxVectorEnv` and ``fg-env serve``, each mistake is one line naming the problem, and
nothing is left half-done.

- At construction: an unknown scorer or reward model, a scorer's setting missing or unknown, a missing Detoxify
  checkpoint, a missing Perspective key, a missing prompts folder or ``prompts.jsonl``, a malformed prompts file
  (named by line and field). The folder given is left as it was.
- During an episode: the Perspective API (a loopback stand-in, ``tests/_perspective_api.py``) refusing the key,
  answering 503 forever, or gone (connection refused). ``step()`` raises, never returns a made-up reward, and
  changes nothing: the action's text is not appended, a sub-env due to reset is not reset. Once the service
  answers again the episode goes on from the last scored sentence, with exactly the rewards of an episode
  that never failed.

No network: the only server is on 127.0.0.1. The command-line tests need the ``openenv`` extra (``fg-env serve``
is the command that takes an environment's arguments); they are skipped without it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from _perspective_api import FAST_SETTINGS, Api, Reply, api_error, client, ok

import fg_env  # noqa: F401 - registers the environments
from fg_env.envs.detox import FineGrainedDetoxVectorEnv
from fg_env.errors import (
    APIKeyError,
    DataNotFoundError,
    FgEnvError,
    InvalidTypeError,
    InvalidValueError,
    ModelNotFoundError,
    PromptsFormatError,
    ScorerError,
    ScorerUnreachableError,
    UnknownChoiceError,
)
from fg_env.rewards.registry import make_reward_model
from fg_env.rewards.toxicity.perspective import PerspectiveToxicity
from fg_env.rewards.toxicity.reward import ContinuationToxicity, ToxicityChange

REPO = Path(__file__).resolve().parents[1]
ENV_ID = "FineGrainedDetox-v0"
SMALL_SPLITS = {"test_size": 1, "dev_size": 1}  # a prompts file of a few lines still splits three ways

# The three ways to build the environment; each must fail the same way.
MAKERS: dict[str, Callable[..., Any]] = {
    "gym.make": lambda **kwargs: gym.make(ENV_ID, **kwargs),
    "gym.make_vec": lambda **kwargs: gym.make_vec(ENV_ID, num_envs=2, **kwargs),
    "FineGrainedDetoxVectorEnv": lambda **kwargs: FineGrainedDetoxVectorEnv(2, **kwargs),
}


def one_line(error: BaseException, *parts: str) -> str:
    """``error``'s message, checked: one of the project's errors, one non-empty line holding every part."""
    message = str(error)
    assert isinstance(error, FgEnvError), f"{type(error).__name__} is not an FgEnvError: {message}"
    assert message.strip() and "\n" not in message, repr(message)
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"
    return message


def record(i: int, toxicity: Any = 0.1, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "filename": f"{i:07d}-abc.txt",
        "begin": 10 * i,
        "end": 10 * i + 40,
        "challenging": False,
        "prompt": {"text": f"Prompt number {i} says", "toxicity": toxicity},
        "continuation": {"text": f" continuation {i}.", "toxicity": 0.2},
    }
    base.update(changes)
    return base


def write_prompts(folder: Path, lines: list[Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    (folder / "prompts.jsonl").write_text(text, encoding="utf-8")
    return folder


def listing(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def prompts_dir(tmp_path: Path) -> Path:
    """A good RealToxicityPrompts folder of six prompts (no scorer needed to read it)."""
    return write_prompts(tmp_path / "rtp", [record(i) for i in range(6)])


def rtp(folder: Path | str, **kwargs: Any) -> dict[str, Any]:
    """The environment's arguments for RealToxicityPrompts in ``folder``."""
    return {"dataset": "real-toxicity-prompts", "data_dir": str(folder), "dataset_kwargs": SMALL_SPLITS, **kwargs}


# -------------------------------------------------------------------------------- scorers, at construction


@pytest.mark.parametrize("maker", list(MAKERS))
def test_an_unknown_scorer_or_reward_model_is_one_line_listing_the_known_ones(maker: str, prompts_dir: Path) -> None:
    make = MAKERS[maker]
    for build in (
        lambda: make(**rtp(prompts_dir, reward_models=[ToxicityChange("nope")])),
        lambda: make(**rtp(prompts_dir, reward_models=[ContinuationToxicity("nope")])),
        lambda: make(**rtp(prompts_dir, reward_models=[make_reward_model("toxicity", scorer="nope")])),
    ):
        with pytest.raises(UnknownChoiceError) as caught:
            build()
        one_line(caught.value, "unknown toxicity scorer 'nope'", "detoxify", "perspective", "profanity-check")
    for reward_models in (["nope"], "nope", ["toxicity", "nope"]):
        with pytest.raises(UnknownChoiceError) as caught:
            make(**rtp(prompts_dir, reward_models=reward_models))
        one_line(caught.value, "unknown reward model 'nope'", "toxicity", "non-toxicity")
    assert listing(prompts_dir) == {"prompts.jsonl": (prompts_dir / "prompts.jsonl").read_bytes()}


def test_a_scorer_setting_missing_or_unknown_is_named_with_the_scorers_settings(tmp_path: Path) -> None:
    # Before: a bare TypeError from deep inside the scorer's constructor.
    with pytest.raises(InvalidTypeError) as caught:
        ToxicityChange("detoxify")
    one_line(caught.value, "toxicity scorer 'detoxify'", "'checkpoint'", "its settings: checkpoint, attribute")
    with pytest.raises(InvalidTypeError) as caught:
        ToxicityChange("perspective", apikey="k")
    one_line(caught.value, "toxicity scorer 'perspective'", "'apikey'", "api_key")
    with pytest.raises(InvalidTypeError):
        make_reward_model("toxicity", scorer="perspective", apikey="k")
    assert isinstance(caught.value, TypeError)  # as before, for callers that caught TypeError


@pytest.mark.parametrize("maker", list(MAKERS))
def test_a_missing_detoxify_checkpoint_is_named(maker: str, prompts_dir: Path, tmp_path: Path) -> None:
    # Checked before the detoxify package is imported: this runs without the extra installed.
    missing = tmp_path / "models" / "toxic_original.ckpt"
    for checkpoint, problem in ((missing, "does not exist (fg_env never downloads one"), (tmp_path, "is not a file")):
        with pytest.raises(ModelNotFoundError) as caught:
            MAKERS[maker](**rtp(prompts_dir, reward_models=[ToxicityChange("detoxify", checkpoint=checkpoint)]))
        one_line(caught.value, f"Detoxify checkpoint {str(checkpoint)!r} {problem}")
    assert not missing.parent.exists()  # nothing was fetched or written in its place


def test_a_missing_perspective_key_says_where_to_put_one(monkeypatch: pytest.MonkeyPatch, prompts_dir: Path) -> None:
    monkeypatch.delenv("PERSPECTIVE_API_KEY", raising=False)
    for build in (
        lambda: ToxicityChange("perspective", url="http://127.0.0.1:9/"),
        lambda: ToxicityChange("perspective", api_key="   "),
        lambda: make_reward_model("non-toxicity", scorer="perspective"),
        lambda: gym.make(ENV_ID, **rtp(prompts_dir, reward_models=[ToxicityChange("perspective")])),
    ):
        with pytest.raises(APIKeyError) as caught:
            build()
        one_line(caught.value, "needs a key", "PERSPECTIVE_API_KEY")


# ----------------------------------------------------------------------------------- prompts, at construction


@pytest.mark.parametrize("maker", list(MAKERS))
def test_a_missing_prompts_folder_or_file_is_named(maker: str, tmp_path: Path) -> None:
    make = MAKERS[maker]
    empty = tmp_path / "empty"
    empty.mkdir()
    a_file = tmp_path / "prompts.txt"
    a_file.write_text("not a folder")
    cases: list[tuple[dict[str, Any], type[Exception], str]] = [
        # Before: a TypeError about RealToxicityPrompts.__init__'s positional argument (a traceback in fg-env serve).
        ({"dataset": "real-toxicity-prompts"}, InvalidValueError, "needs data_dir"),
        (rtp(tmp_path / "missing"), DataNotFoundError, f"{str(tmp_path / 'missing')!r} does not exist"),
        (rtp(empty), DataNotFoundError, f"no prompts.jsonl in RealToxicityPrompts folder {str(empty)!r}"),
        # Before: "does not exist", of a path that does.
        (rtp(a_file), DataNotFoundError, f"{str(a_file)!r} is not a folder"),
    ]
    for kwargs, error_type, problem in cases:
        with pytest.raises(error_type) as caught:
            make(**kwargs)
        one_line(caught.value, problem)
    assert not (tmp_path / "missing").exists() and listing(empty) == {}


MALFORMED: list[tuple[list[Any], int, str | None, str]] = [
    ([record(0), record(1), record(2, toxicity="high")], 3, "prompt.toxicity", "expected a number in [0, 1] or null"),
    ([record(0), record(1, prompt={"toxicity": 0.1})], 2, "prompt.text", "missing"),
    ([record(0), '{"filename": "x.txt", "begin": 0,', record(2)], 2, None, "not valid JSON"),
    ([record(0), record(1), record(2), record(3, begin=-5)], 4, "begin", "expected a non-negative integer, got -5"),
    ([record(0), "[1, 2]"], 2, None, "expected a JSON object"),
    ([record(0), record(1, challenging="yes")], 2, "challenging", "expected true or false"),
]


@pytest.mark.parametrize("maker", list(MAKERS))
@pytest.mark.parametrize("lines, line, field, problem", MALFORMED)
def test_a_malformed_prompts_file_is_named_by_line_and_field(
    maker: str, tmp_path: Path, lines: list[Any], line: int, field: str | None, problem: str
) -> None:
    folder = write_prompts(tmp_path / "rtp", lines + [record(i) for i in range(10, 16)])
    before = listing(folder)
    with pytest.raises(PromptsFormatError) as caught:
        MAKERS[maker](**rtp(folder))
    where = f"prompts.jsonl: line {line}: " + (f"field {field!r}: " if field else "")
    one_line(caught.value, where + problem)
    assert (caught.value.line, caught.value.field) == (line, field)
    assert listing(folder) == before


def test_the_good_folder_makes_an_environment(prompts_dir: Path) -> None:
    # The fixtures above fail only where they are meant to.
    scorer = ToxicityChange(client("http://127.0.0.1:9/"))
    for make in MAKERS.values():
        env = make(**rtp(prompts_dir, reward_models=[scorer]))
        assert env.unwrapped.reward_names == ("toxicity",)
        env.close()


# ------------------------------------------------------------------------------------ the scorer, mid-episode


def tox(text: str) -> float:
    """What the stand-in answers for ``text`` (``score_of``), and 0 for blank text, which is not sent."""
    return min(1.0, len(text) / 100) if text.strip() else 0.0


class Outage:
    """The stand-in answering, then failing in one of three ways, then answering again on the same port."""

    KINDS: dict[str, tuple[type[ScorerError], tuple[str, ...]]] = {
        "503 forever": (ScorerError, ("HTTP 503", "after 2 attempts", "did not score")),
        "connection refused": (ScorerUnreachableError, ("ConnectionRefusedError", "after 2 attempts")),
        "key refused (403)": (APIKeyError, ("refused the key (HTTP 403)", "PERMISSION_DENIED")),
    }

    def __init__(self, kind: str, serve: Callable[..., Api]) -> None:
        self.kind, self.serve, self.failing = kind, serve, False
        self.api = serve(self.reply)
        self.url, self.port = self.api.url, self.api.server.server_address[1]
        self.error_type, self.parts = self.KINDS[kind]

    def reply(self, n: int, request: dict[str, Any]) -> Reply:
        if not self.failing:
            return ok(request)
        if self.kind == "503 forever":
            return api_error(503, "The service is currently unavailable.", "UNAVAILABLE")
        return api_error(403, "The caller does not have permission", "PERMISSION_DENIED")

    def start(self) -> None:
        self.failing = True
        if self.kind == "connection refused":
            self.api.close()

    def end(self) -> None:
        self.failing = False
        if self.kind == "connection refused":
            self.api = self.serve(self.reply, port=self.port)

    def settings(self) -> dict[str, Any]:
        return {**FAST_SETTINGS, "max_retries": 1, "url": self.url}


class Counting:
    """A scorer counting its ``toxicity`` calls (one per step, however many sub-environments)."""

    def __init__(self, inner: PerspectiveToxicity) -> None:
        self.inner, self.name, self.version, self.calls = inner, "perspective", inner.version, 0

    def toxicity(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        return self.inner.toxicity(texts)


OUTAGES = list(Outage.KINDS)


@pytest.mark.parametrize("kind", OUTAGES)
def test_a_failing_scorer_raises_and_the_step_changes_nothing(kind: str, serve, sleeps, prompts_dir: Path) -> None:  # noqa: ANN001
    outage = Outage(kind, serve)
    models = [
        ToxicityChange("perspective", **outage.settings()),
        ContinuationToxicity("perspective", **outage.settings()),
    ]
    env = gym.make(ENV_ID, **rtp(prompts_dir, reward_models=models, max_sentences=10))
    core = env.unwrapped
    _, info = env.reset(seed=0)
    first = "It rained."
    _, reward, *_ = env.step(first)
    assert reward[0] == pytest.approx(-tox(first), abs=1e-6)
    rewards = [float(reward[0])]

    outage.start()
    state = (core.response, core.sentences, core.example.id)
    for action in ("The river rose.", "The river rose.", ""):  # again and again, and the end of the answer too
        with pytest.raises(outage.error_type) as caught:
            env.step(action)
        one_line(caught.value, "Perspective API", *outage.parts)
        assert "test-key" not in str(caught.value)  # the key is never shown
        assert (core.response, core.sentences, core.example.id) == state  # not appended, not ended
    assert isinstance(caught.value, ScorerError)

    outage.end()
    # The failed sentence was never written: the next one follows the last scored one, its "before" is that one.
    second = "The sun came out."
    _, reward, terminated, truncated, info = env.step(second)
    assert core.response == f"{first} {second}" and not (terminated or truncated)
    assert reward[0] == pytest.approx(-(tox(core.response) - tox(first)), abs=1e-6)
    assert [s["text"] for s in info["segments"]] == [second]
    rewards.append(float(reward[0]))
    _, reward, terminated, _, _ = env.step("")
    assert terminated and reward[1] == pytest.approx(1 - tox(core.response), abs=1e-6)
    assert sum(rewards) == pytest.approx(-tox(core.response), abs=1e-5)  # the dense rewards still telescope
    with pytest.raises(FgEnvError, match="call reset"):
        env.step("After the end.")


@pytest.mark.parametrize("kind", OUTAGES)
def test_a_failing_scorer_leaves_every_sub_env_as_it_was(kind: str, serve, sleeps, prompts_dir: Path) -> None:  # noqa: ANN001
    outage = Outage(kind, serve)
    scorer = Counting(PerspectiveToxicity(**outage.settings()))
    envs = gym.make_vec(ENV_ID, num_envs=3, **rtp(prompts_dir, reward_models=[ToxicityChange(scorer)]))
    cores = envs.unwrapped.core_envs
    envs.reset(seed=0)
    _, rewards, terminated, _, _ = envs.step(["It rained.", "The sun came out.", ""])
    assert scorer.calls == 1 and terminated.tolist() == [False, False, True]  # sub-env 2 resets on the next step

    outage.start()
    state = [(c.response, c.sentences, c.example.id) for c in cores]
    actions = ["The river rose.", "Birds sang.", "ignored: this sub-env resets"]
    for _ in range(2):
        with pytest.raises(outage.error_type) as caught:
            envs.step(actions)
        one_line(caught.value, "Perspective API", *outage.parts)
        assert [(c.response, c.sentences, c.example.id) for c in cores] == state
    assert scorer.calls == 3  # one call for all the sub-envs, each time

    outage.end()
    _, rewards, _, _, infos = envs.step(actions)
    assert scorer.calls == 4
    assert [c.response for c in cores] == ["It rained. The river rose.", "The sun came out. Birds sang.", ""]
    for i, first in enumerate(["It rained.", "The sun came out."]):
        assert rewards[i, 0] == pytest.approx(-(tox(cores[i].response) - tox(first)), abs=1e-6)
    assert rewards[2, 0] == 0.0 and infos["_prompt"].tolist() == [False, False, True]  # the due reset, now
    envs.close()


@pytest.mark.parametrize(
    "answer",
    [
        api_error(400, "API key not valid. Please pass a valid API key.", "INVALID_ARGUMENT", "API_KEY_INVALID"),
        api_error(403, "Permission denied: the API is not enabled for this key.", "PERMISSION_DENIED"),
    ],
    ids=["400", "403"],
)
def test_a_refused_key_is_named_at_the_first_step(answer: Reply, serve, sleeps, prompts_dir: Path) -> None:  # noqa: ANN001
    api = serve(lambda n, request: answer)
    model = ToxicityChange("perspective", **{**FAST_SETTINGS, "url": api.url, "api_key": "revoked-key"})
    env = gym.make(ENV_ID, **rtp(prompts_dir, reward_models=[model]))
    env.reset(seed=0)
    assert api.requests == []  # a key is first tried by the first step's request
    with pytest.raises(APIKeyError) as caught:
        env.step("It rained.")
    message = one_line(caught.value, f"refused the key (HTTP {answer[0]})", answer[1]["error"]["message"])
    assert "revoked-key" not in message and env.unwrapped.response == ""
    assert len(api.requests) == 1  # a refused key is not retried


# ---------------------------------------------------------------------------------------------- fg-env serve


def fg_env_serve(env_kwargs: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "FG_ENV_TRACEBACK"}
    environ["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [environ.get("PYTHONPATH")])])
    command = [sys.executable, "-m", "fg_env.cli", "serve", "--env", ENV_ID, "--env-kwargs", json.dumps(env_kwargs)]
    return subprocess.run(command, cwd=REPO, env=environ, capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(
    importlib.util.find_spec("openenv") is None or importlib.util.find_spec("uvicorn") is None,
    reason="fg-env serve needs the openenv extra (pip install 'fg-env[openenv]')",
)
@pytest.mark.parametrize("case", ["no data_dir", "malformed prompts", "unknown reward model", "misspelt argument"])
def test_fg_env_serve_prints_one_line_and_exits_2(case: str, tmp_path: Path) -> None:
    # fg-env serve builds the environment before it listens: bad arguments end it at once, in one line.
    good = write_prompts(tmp_path / "good", [record(i) for i in range(6)])
    bad = write_prompts(tmp_path / "bad", [record(0), record(1, toxicity="high")])
    env_kwargs, problem = {
        "no data_dir": ({"dataset": "real-toxicity-prompts"}, "dataset 'real-toxicity-prompts' needs data_dir"),
        "malformed prompts": (rtp(bad), "prompts.jsonl: line 2: field 'prompt.toxicity': expected a number"),
        "unknown reward model": (rtp(good, reward_models=["nope"]), "unknown reward model 'nope'"),
        # Before: a TypeError's traceback from gym.make (and with a misspelt dataset_kwargs key, the same).
        "misspelt argument": (
            {"dataset": "real-toxicity-prompts", "datadir": str(good)},
            "cannot make env 'FineGrainedDetox-v0': FineGrainedDetoxEnv.__init__() got an unexpected keyword "
            "argument 'datadir'",
        ),
    }[case]
    before = listing(tmp_path)
    result = fg_env_serve(env_kwargs)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert result.stderr.endswith("\n") and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("fg-env serve: error: ") and problem in result.stderr
    assert listing(tmp_path) == before
