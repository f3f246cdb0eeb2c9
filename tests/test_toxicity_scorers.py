"""Toxicity scorers (fg_env.rewards.toxicity): the registry, the default scorer's equality with
alt-profanity-check's predict_prob, Detoxify's error paths, and the Perspective client against a local
server that answers in the API's format.

No offensive word is written here: where a test needs a toxic text, it takes the word the package's own model
weighs most towards toxicity, at test time.
"""

from __future__ import annotations

import socket
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _perspective_api import Reply, api_error, client, ok
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fg_env.errors import (
    APIKeyError,
    CheckpointError,
    FgEnvError,
    InvalidTypeError,
    InvalidValueError,
    MissingDependencyError,
    ModelNotFoundError,
    ScorerError,
    ScorerUnreachableError,
    UnknownChoiceError,
)
from fg_env.rewards.toxicity import (
    DEFAULT_TOXICITY_SCORER,
    ProfanityToxicity,
    ToxicityScorer,
    available_toxicity_scorers,
    checked_toxicity,
    make_toxicity_scorer,
    register_toxicity_scorer,
)
from fg_env.rewards.toxicity import perspective as perspective_module
from fg_env.rewards.toxicity.detoxify import DetoxifyToxicity
from fg_env.rewards.toxicity.perspective import PerspectiveToxicity
from fg_env.rewards.toxicity.registry import _FACTORIES

profanity_check = pytest.importorskip("profanity_check")
predict_prob = profanity_check.predict_prob

REPO = Path(__file__).resolve().parents[1]
TOLERANCE = 1e-9


# ------------------------------------------------------------------------------------------ helpers


@pytest.fixture(scope="module")
def scorer() -> ProfanityToxicity:
    return ProfanityToxicity()


@pytest.fixture(scope="module")
def toxic_word() -> str:
    """The vocabulary word the package's model weighs most towards toxicity (found, never written down)."""
    vectorizer, model = profanity_check.profanity_check.vectorizer, profanity_check.profanity_check.model
    weights = np.mean([c.estimator.coef_[0] for c in model.calibrated_classifiers_], axis=0) * vectorizer.idf_
    by_index = {index: word for word, index in vectorizer.vocabulary_.items()}
    return by_index[int(np.argmax(weights))]


def real_texts() -> list[str]:
    """Real English: every non-empty line of the project's prose."""
    lines: list[str] = []
    for name in ("README.md", "CONTRIBUTING.md", "CHANGELOG.md"):
        path = REPO / name
        if path.exists():
            lines += [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return lines


def hostile_texts(word: str) -> list[str]:
    return [
        "",
        " ",
        "\t\n\r\x0b\x0c",
        "\x00\x01\x02\x7f\x1b[31m",
        "a",  # one character: no token under the pattern
        "I",
        "...!!!???",
        "12345 67890",
        "Ünïcödé façade naïve café",
        "日本語のテキスト 中文文本 한국어",
        "مرحبا بالعالم שלום עולם",
        "e\u0301 combining marks a\u0308",
        "zero\u200bwidth\u200djoiner\ufeff",
        "🙂🙃😡🤬👍🏽👨‍👩‍👧",
        "lone surrogate \ud800 here",
        "the " * 2000,
        "x" * 100_000,
        " ".join(["word"] * 20_000),
        word,
        word.upper(),
        f"{word} " * 500,
        f"A calm sentence, and then {word}.",
        f"{word}\x00{word}\n{word}",
        "\n".join([word, "kind", "gentle"] * 100),
    ]


def assert_equal_to_package(scorer: ProfanityToxicity, texts: list[str]) -> float:
    ours, theirs = scorer.toxicity(texts), predict_prob(texts)
    assert ours.dtype == np.float64 and ours.shape == (len(texts),)
    difference = float(np.max(np.abs(ours - theirs)))
    assert difference <= TOLERANCE
    return difference


# ----------------------------------------------------------------------------- registry and contract


def test_registry_names_the_three_scorers_and_the_default() -> None:
    assert {"profanity-check", "detoxify", "perspective"} <= set(available_toxicity_scorers())
    assert DEFAULT_TOXICITY_SCORER == "profanity-check"
    assert make_toxicity_scorer().name == "profanity-check"
    assert isinstance(make_toxicity_scorer("profanity-check"), ProfanityToxicity)
    perspective = make_toxicity_scorer("perspective", api_key="k", requests_per_second=3)
    assert isinstance(perspective, PerspectiveToxicity) and perspective.requests_per_second == 3


def test_an_unknown_name_is_one_line_listing_the_known_names() -> None:
    with pytest.raises(UnknownChoiceError) as caught:
        make_toxicity_scorer("profanity")
    message = str(caught.value)
    assert "\n" not in message and "'profanity'" in message
    for name in ("detoxify", "perspective", "profanity-check"):
        assert name in message
    assert isinstance(caught.value, (FgEnvError, KeyError, ValueError))


class Constant:
    name, version = "constant", "1"

    def __init__(self, value: Any = 0.25) -> None:
        self.value = value

    def toxicity(self, texts):  # noqa: ANN001, ANN201
        return np.full(len(texts), self.value) if np.isscalar(self.value) else self.value


def test_a_scorer_object_passes_through_and_a_non_scorer_is_refused() -> None:
    own = Constant()
    assert isinstance(own, ToxicityScorer)
    assert make_toxicity_scorer(own) is own
    with pytest.raises(InvalidValueError):
        make_toxicity_scorer(own, api_key="k")
    with pytest.raises(InvalidTypeError):
        make_toxicity_scorer(object())  # type: ignore[arg-type]


def test_a_registered_scorer_is_built_by_name() -> None:
    register_toxicity_scorer("constant-test", Constant)
    try:
        assert make_toxicity_scorer("constant-test", value=0.5).toxicity(["a"]).tolist() == [0.5]
        assert "constant-test" in available_toxicity_scorers()
        register_toxicity_scorer("broken-test", lambda: object())
        with pytest.raises(InvalidTypeError):
            make_toxicity_scorer("broken-test")
    finally:
        _FACTORIES.pop("constant-test", None)
        _FACTORIES.pop("broken-test", None)


@pytest.mark.parametrize(
    "value, problem",
    [
        (np.array([0.1]), "shape"),
        (np.array([0.1, np.nan]), "outside"),
        (np.array([0.1, 1.5]), "outside"),
        ("x", "numbers"),
    ],
)
def test_checked_toxicity_names_a_scorer_that_breaks_the_contract(value: Any, problem: str) -> None:
    with pytest.raises(InvalidValueError, match=problem):
        checked_toxicity(Constant(value), ["a", "b"])


@pytest.mark.parametrize("texts", ["one string", b"bytes", ["ok", 3], ["ok", None], 42])
def test_texts_must_be_a_sequence_of_strings(scorer: ProfanityToxicity, texts: Any) -> None:
    with pytest.raises(InvalidTypeError):
        scorer.toxicity(texts)


# ------------------------------------------------------------------------------------ profanity-check


def test_equal_to_predict_prob_on_real_text(scorer: ProfanityToxicity) -> None:
    texts = real_texts()
    assert len(texts) > 200
    assert_equal_to_package(scorer, texts)


def test_equal_to_predict_prob_on_hostile_text(scorer: ProfanityToxicity, toxic_word: str) -> None:
    texts = hostile_texts(toxic_word)
    assert_equal_to_package(scorer, texts)
    for text in texts:  # one at a time as well as batched
        assert_equal_to_package(scorer, [text])


def test_the_toxic_example_scores_high_and_prose_low(scorer: ProfanityToxicity, toxic_word: str) -> None:
    toxic, calm = scorer.toxicity([f"You are a {toxic_word}.", "Thank you for the lovely afternoon."])
    assert toxic > 0.9 > 0.1 > calm


def test_an_empty_batch_and_batch_order(scorer: ProfanityToxicity, toxic_word: str) -> None:
    assert scorer.toxicity([]).shape == (0,)
    texts = [toxic_word, "hello there", "", toxic_word + " again"]
    batched = scorer.toxicity(texts)
    assert batched.tolist() == [scorer.toxicity([t])[0] for t in texts]
    assert scorer.toxicity(texts[::-1]).tolist() == batched[::-1].tolist()


def test_one_model_per_process(toxic_word: str) -> None:
    first, second = ProfanityToxicity(), ProfanityToxicity()
    assert first._model is second._model
    assert first.version == second.version and first.version.startswith("alt-profanity-check-")


@st.composite
def texts_with_vocabulary(draw: st.DrawFn) -> list[str]:
    vocabulary = sorted(profanity_check.profanity_check.vectorizer.vocabulary_)
    pieces = st.one_of(
        st.sampled_from(vocabulary),
        st.sampled_from(vocabulary).map(str.upper),
        st.text(max_size=12),
        st.sampled_from([" ", "\n", ",", "'", "-", "_", "\x00", "🙂", "1"]),
    )
    text = st.lists(pieces, max_size=30).map(
        lambda parts: "".join(p if i % 2 else p + " " for i, p in enumerate(parts))
    )
    return draw(st.lists(st.one_of(text, st.text()), min_size=1, max_size=8))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=texts_with_vocabulary())
def test_property_equal_to_predict_prob(scorer: ProfanityToxicity, texts: list[str]) -> None:
    assert_equal_to_package(scorer, texts)


def _corpus(seed: int) -> tuple[list[str], list[int]]:
    rng = np.random.default_rng(seed)
    words = ["apple", "river", "stone", "cloud", "bright", "quiet", "storm", "angry", "gentle", "number"]
    texts, labels = [], []
    for _ in range(120):
        chosen = rng.choice(words, size=int(rng.integers(1, 9)))
        texts.append(" ".join(chosen))
        labels.append(int("storm" in chosen or "angry" in chosen))
    return texts, labels


@pytest.mark.parametrize(
    "vectorizer_settings, method, estimator",
    [
        ({}, "sigmoid", "svc"),
        ({"sublinear_tf": True}, "isotonic", "svc"),
        ({"binary": True, "norm": "l1"}, "sigmoid", "logistic"),
        ({"use_idf": False, "norm": None, "stop_words": "english"}, "isotonic", "logistic"),
    ],
)
def test_a_fitted_pipeline_of_ones_own_scores_as_sklearn(
    vectorizer_settings: dict, method: str, estimator: str
) -> None:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    texts, labels = _corpus(0)
    vectorizer = TfidfVectorizer(**vectorizer_settings).fit(texts)
    base = LinearSVC() if estimator == "svc" else LogisticRegression()
    classifier = CalibratedClassifierCV(base, method=method, cv=3).fit(vectorizer.transform(texts), labels)
    own = ProfanityToxicity(vectorizer, classifier)
    probe = _corpus(1)[0] + ["", "STORM storm storm", "unknown words only", "angry\x00gentle"]
    expected = classifier.predict_proba(vectorizer.transform(probe))[:, 1]
    assert np.max(np.abs(own.toxicity(probe) - expected)) <= TOLERANCE
    assert own.version is None


def test_a_pipeline_that_is_not_linear_is_refused() -> None:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
    from sklearn.tree import DecisionTreeClassifier

    texts, labels = _corpus(0)
    vectorizer = TfidfVectorizer().fit(texts)
    tree = CalibratedClassifierCV(DecisionTreeClassifier(), cv=3).fit(vectorizer.transform(texts), labels)
    with pytest.raises(InvalidValueError, match="not a linear classifier"):
        ProfanityToxicity(vectorizer, tree)
    with pytest.raises(InvalidTypeError):
        ProfanityToxicity(CountVectorizer().fit(texts), tree)
    with pytest.raises(InvalidValueError):
        ProfanityToxicity(vectorizer)


def test_a_missing_package_names_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from fg_env.rewards.toxicity import profanity

    monkeypatch.setitem(sys.modules, "profanity_check", None)
    with pytest.raises(MissingDependencyError, match="alt-profanity-check"):
        profanity.package_pipeline()


# ------------------------------------------------------------------------------------------- detoxify


def test_detoxify_missing_checkpoint_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "toxic_original.ckpt"
    with pytest.raises(ModelNotFoundError, match="toxic_original.ckpt' does not exist") as caught:
        make_toxicity_scorer("detoxify", checkpoint=missing)
    assert isinstance(caught.value, FileNotFoundError) and "\n" not in str(caught.value)
    with pytest.raises(ModelNotFoundError, match="is not a file"):
        DetoxifyToxicity(tmp_path)


def test_detoxify_absent_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    checkpoint = tmp_path / "model.ckpt"
    checkpoint.write_bytes(b"weights")
    monkeypatch.setitem(sys.modules, "detoxify", None)  # import detoxify raises ImportError
    with pytest.raises(MissingDependencyError) as caught:
        DetoxifyToxicity(checkpoint)
    message = str(caught.value)
    assert "fg-env[detoxify]" in message and "\n" not in message
    assert isinstance(caught.value, ImportError)


class FakeDetoxify:
    """Detoxify's interface (predict of a list -> class name -> list of scores), without a model."""

    calls: list[list[str]] = []

    def __init__(self, checkpoint: str, device: str = "cpu", huggingface_config_path: str | None = None) -> None:
        if Path(checkpoint).read_bytes() == b"corrupt":
            raise ValueError("Checkpoint needs to contain the config it was trained with as well as the state dict")
        self.class_names = ["toxicity", "insult"]

    def predict(self, texts: list[str]) -> dict[str, list[float]]:
        FakeDetoxify.calls.append(list(texts))
        return {"toxicity": [min(1.0, len(t) / 10) for t in texts], "insult": [0.5 for _ in texts]}


@pytest.fixture
def fake_detoxify(monkeypatch: pytest.MonkeyPatch) -> type[FakeDetoxify]:
    module = types.ModuleType("detoxify")
    module.Detoxify = FakeDetoxify  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "detoxify", module)
    FakeDetoxify.calls = []
    return FakeDetoxify


def test_detoxify_scores_in_batches_through_the_package(tmp_path: Path, fake_detoxify: type[FakeDetoxify]) -> None:
    checkpoint = tmp_path / "model.ckpt"
    checkpoint.write_bytes(b"weights")
    scorer = make_toxicity_scorer("detoxify", checkpoint=checkpoint, batch_size=2)
    texts = ["a", "abcde", "", "x" * 40, "abc"]
    assert scorer.toxicity(texts).tolist() == [0.1, 0.5, 0.0, 1.0, 0.3]
    assert fake_detoxify.calls == [["a", "abcde"], ["", "x" * 40], ["abc"]]
    assert scorer.toxicity([]).shape == (0,)
    assert scorer.version is not None and scorer.version.startswith("detoxify-")
    assert DetoxifyToxicity(checkpoint, attribute="insult").toxicity(["q"]).tolist() == [0.5]
    with pytest.raises(UnknownChoiceError, match="toxicity, insult"):
        DetoxifyToxicity(checkpoint, attribute="threat")
    checkpoint.write_bytes(b"corrupt")
    with pytest.raises(CheckpointError, match="model.ckpt"):
        DetoxifyToxicity(checkpoint)


def test_detoxify_real_checkpoint_when_available() -> None:
    pytest.importorskip("detoxify")
    import os

    path = os.environ.get("FG_ENV_DETOXIFY_CHECKPOINT")
    if not path:
        pytest.skip("set FG_ENV_DETOXIFY_CHECKPOINT to a local Detoxify .ckpt file to run the real model")
    values = DetoxifyToxicity(path).toxicity(["Thank you for the lovely afternoon.", ""])
    assert values.shape == (2,) and np.all((values >= 0) & (values <= 1)) and values[0] < 0.5


# ----------------------------------------------------------------------------------------- perspective

# The loopback stand-in for the API (Api, ok, api_error, client) is tests/_perspective_api.py; its fixtures
# (serve, sleeps, no_proxy) are in conftest.py, shared with tests/test_detox_errors.py.


def test_perspective_sends_the_documented_request_and_reads_the_summary_score(serve, sleeps) -> None:  # noqa: ANN001
    api = serve(lambda n, request: ok(request))
    texts = ["short", "a much longer text to score here", "", "   ", "🙂 unicode ü"]
    values = client(api.url).toxicity(texts)
    assert values.tolist() == [0.05, 0.32, 0.0, 0.0, 0.11]
    assert len(api.requests) == 3  # blank texts are not sent
    first = api.requests[0]
    assert first["path"].endswith("/v1alpha1/comments:analyze?key=test-key")
    assert first["content_type"] == "application/json"
    assert first["json"] == {
        "comment": {"text": "short"},
        "requestedAttributes": {"TOXICITY": {}},
        "languages": ["en"],
        "doNotStore": True,
    }
    assert api.requests[2]["json"]["comment"]["text"] == "🙂 unicode ü"


def test_perspective_reads_the_key_from_the_environment(serve, sleeps, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("PERSPECTIVE_API_KEY", "from-env")
    api = serve(lambda n, request: ok(request))
    PerspectiveToxicity(url=api.url, requests_per_second=1e6).toxicity(["hi"])
    assert api.requests[0]["path"].endswith("?key=from-env")


def test_perspective_without_a_key_says_where_to_put_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PERSPECTIVE_API_KEY", raising=False)
    with pytest.raises(APIKeyError, match="PERSPECTIVE_API_KEY") as caught:
        make_toxicity_scorer("perspective")
    assert "\n" not in str(caught.value) and isinstance(caught.value, PermissionError)


@pytest.mark.parametrize("first", [(429, {"Retry-After": "0"}), (500, {}), (503, {})])
def test_perspective_retries_429_and_5xx_then_scores(serve, sleeps, first: tuple[int, dict[str, str]]) -> None:  # noqa: ANN001
    status, headers = first
    api = serve(
        lambda n, request: (status, {"error": {"code": status, "message": "busy"}}, headers) if n == 0 else ok(request)
    )
    assert client(api.url).toxicity(["hello"]).tolist() == [0.05]
    assert len(api.requests) == 2
    assert any(abs(s - 0.01) < 1e-12 for s in sleeps)  # the first back-off


def test_perspective_backs_off_exponentially_and_honours_retry_after(serve, sleeps) -> None:  # noqa: ANN001
    api = serve(
        lambda n, request: (
            (429, {"error": {"code": 429, "message": "Quota exceeded"}}, {"Retry-After": "0.5"} if n == 2 else {})
            if n < 3
            else ok(request)
        )
    )
    client(api.url, backoff=0.1, max_backoff=1.0).toxicity(["hello"])
    assert [round(s, 6) for s in sleeps if s >= 0.05] == [0.1, 0.2, 0.5]


def test_perspective_gives_up_after_the_retries_without_a_score(serve, sleeps) -> None:  # noqa: ANN001
    api = serve(lambda n, request: api_error(503, "The service is currently unavailable.", "UNAVAILABLE"))
    with pytest.raises(
        ScorerError, match=r"after 3 attempts: HTTP 503: The service is currently unavailable"
    ) as caught:
        client(api.url, max_retries=2).toxicity(["one", "two"])
    assert not isinstance(caught.value, ScorerUnreachableError)
    assert len(api.requests) == 3 and "test-key" not in str(caught.value)


@pytest.mark.parametrize(
    "reply",
    [
        api_error(403, "Permission denied: Consumer has been suspended.", "PERMISSION_DENIED"),
        api_error(400, "API key not valid. Please pass a valid API key.", "INVALID_ARGUMENT", "API_KEY_INVALID"),
    ],
)
def test_perspective_refused_key_is_named_with_the_apis_message(serve, sleeps, reply: Reply) -> None:  # noqa: ANN001
    api = serve(lambda n, request: reply)
    with pytest.raises(APIKeyError) as caught:
        client(api.url).toxicity(["hello"])
    message = str(caught.value)
    assert reply[1]["error"]["message"] in message and f"HTTP {reply[0]}" in message
    assert "test-key" not in message and "\n" not in message
    assert len(api.requests) == 1  # not retried


def test_perspective_other_refusals_carry_the_apis_message(serve, sleeps) -> None:  # noqa: ANN001
    reply = api_error(400, "Attribute TOXICITY does not support request languages: xx", "INVALID_ARGUMENT")
    api = serve(lambda n, request: reply)
    with pytest.raises(ScorerError, match="refused text 0 .HTTP 400.: Attribute TOXICITY does not support") as caught:
        client(api.url, languages=["xx"]).toxicity(["hello"])
    assert not isinstance(caught.value, APIKeyError) and len(api.requests) == 1


@pytest.mark.parametrize(
    "body",
    [
        b"<html>Bad gateway</html>",
        {"attributeScores": {}},
        {"attributeScores": {"TOXICITY": {"summaryScore": {"value": "high"}}}},
        {"attributeScores": {"TOXICITY": {"summaryScore": {"value": 1.7}}}},
        {"attributeScores": {"TOXICITY": {"summaryScore": {"value": None}}}},
    ],
)
def test_perspective_malformed_answer_raises_instead_of_scoring(serve, sleeps, body: Any) -> None:  # noqa: ANN001
    api = serve(lambda n, request: ok(request) if n == 0 else (200, body, {}))
    with pytest.raises(ScorerError, match="answered text 1"):
        client(api.url).toxicity(["fine", "then broken", "never reached"])
    assert len(api.requests) == 2


def test_perspective_server_that_never_answers_times_out(no_proxy, sleeps) -> None:  # noqa: ANN001
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections (the kernel's backlog) and never answers
    try:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/v1alpha1/comments:analyze"
        with pytest.raises(ScorerUnreachableError, match=r"after 2 attempts: no answer within 0.2 s") as caught:
            client(url, timeout=0.2, max_retries=1).toxicity(["hello"])
        assert isinstance(caught.value, ConnectionError)
    finally:
        silent.close()


def test_perspective_refused_connection_is_unreachable(no_proxy, sleeps) -> None:  # noqa: ANN001
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    with pytest.raises(ScorerUnreachableError, match="after 2 attempts"):
        client(f"http://127.0.0.1:{port}/", max_retries=1).toxicity(["hello"])


def test_perspective_concurrent_batch_keeps_order_and_fails_whole(serve, sleeps) -> None:  # noqa: ANN001
    api = serve(lambda n, request: ok(request))
    texts = ["x" * n for n in range(1, 13)]
    values = client(api.url, max_concurrent=4).toxicity(texts)
    assert values.tolist() == [n / 100 for n in range(1, 13)]
    broken = serve(
        lambda n, request: (
            api_error(404, "Not found", "NOT_FOUND") if request["comment"]["text"] == "xxxxx" else ok(request)
        )
    )
    with pytest.raises(ScorerError, match="refused text 4 .HTTP 404."):
        client(broken.url, max_concurrent=4).toxicity(texts)


def test_the_rate_limiter_spaces_requests(sleeps) -> None:  # noqa: ANN001
    limiter = perspective_module._RateLimiter(4.0, clock=lambda: 100.0)  # a clock that stands still
    for _ in range(4):
        limiter.wait()
    assert sleeps == [0.25, 0.5, 0.75]


def test_perspective_scorer_waits_for_its_rate(serve, sleeps) -> None:  # noqa: ANN001
    api = serve(lambda n, request: ok(request))
    client(api.url, requests_per_second=2.0).toxicity(["a", "b", "c"])
    # The recorded waits are not slept, so the second request waits half a second and the third a whole one.
    assert len(sleeps) == 2 and abs(sleeps[0] - 0.5) < 0.1 and abs(sleeps[1] - 1.0) < 0.1


@pytest.mark.parametrize(
    "settings",
    [{"requests_per_second": 0}, {"timeout": -1}, {"max_concurrent": 0}, {"max_retries": -1}, {"url": "ftp://x"}],
)
def test_perspective_bad_settings_are_named(settings: dict[str, Any]) -> None:
    with pytest.raises(InvalidValueError, match=next(iter(settings))):
        PerspectiveToxicity(api_key="k", **settings)


def test_the_scorer_errors_keep_their_built_in_parents() -> None:
    assert issubclass(ScorerError, FgEnvError) and issubclass(ScorerError, RuntimeError)
    assert issubclass(ScorerUnreachableError, ScorerError) and issubclass(ScorerUnreachableError, ConnectionError)
    assert issubclass(APIKeyError, ScorerError) and issubclass(APIKeyError, PermissionError)
