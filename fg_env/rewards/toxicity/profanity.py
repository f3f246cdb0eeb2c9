"""The default toxicity scorer: ``alt-profanity-check``'s model, scored without its per-call overhead.

``alt-profanity-check`` ships a scikit-learn pipeline trained on human-labelled comments: a tf-idf
vectoriser (word unigrams, English stop words removed, l2-normalised) and a
``CalibratedClassifierCV`` of linear SVMs, each under a sigmoid (Platt) calibrator; its ``predict_prob``
averages the calibrated classifiers' probabilities, as scikit-learn does. Through scikit-learn's input
checks, each call costs milliseconds whether it scores 1 text or 64.

:class:`ProfanityToxicity` reads the fitted pipeline once (the vocabulary, the idf weights, each linear
classifier's weights and intercept, each calibrator) and scores a batch with a few numpy operations:
tokenise every text with the vectoriser's own analyser (so lower-casing, the token pattern and the stop
words are scikit-learn's), count, weight, normalise, take each classifier's dot product, calibrate,
average. The arithmetic is done in scikit-learn's order, so the probabilities equal ``predict_prob``'s
(``tests/test_toxicity_scorers.py`` checks them to 1e-9 on real, hostile and generated text).

The model's weights are not copied into fg_env: they are read from the installed package, so no word list
is written into this repository.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import Any

import numpy as np
from scipy.special import expit

from fg_env.errors import InvalidTypeError, InvalidValueError, MissingDependencyError
from fg_env.rewards.toxicity.base import check_texts

__all__ = ["ProfanityToxicity", "package_pipeline"]

INSTALL_HINT = 'pip install "fg-env[detox]"'


def package_pipeline() -> tuple[Any, Any]:
    """``alt-profanity-check``'s fitted ``(vectorizer, classifier)``, as its ``predict_prob`` uses them."""
    try:
        from profanity_check import profanity_check
    except ImportError as error:
        raise MissingDependencyError(
            f"the 'profanity-check' toxicity scorer needs the alt-profanity-check package: {INSTALL_HINT} ({error})"
        ) from None
    return profanity_check.vectorizer, profanity_check.model


@dataclass(frozen=True)
class _Calibrator:
    """One calibrated classifier's map from its decision value to a probability, as scikit-learn computes it."""

    kind: str  # "sigmoid" or "isotonic"
    a: float = 0.0
    b: float = 0.0
    x_min: float = 0.0
    x_max: float = 0.0
    x: np.ndarray | None = None
    y: np.ndarray | None = None

    def __call__(self, decision: np.ndarray) -> np.ndarray:
        if self.kind == "sigmoid":
            return expit(-(self.a * decision + self.b))  # sklearn.calibration._SigmoidCalibration.predict
        assert self.x is not None and self.y is not None
        clipped = np.clip(decision, self.x_min, self.x_max)  # IsotonicRegression(out_of_bounds="clip")
        if self.x.shape[0] == 1:
            return np.repeat(self.y, clipped.shape[0])
        return np.interp(clipped, self.x, self.y)


def _calibrator(fitted: Any) -> _Calibrator:
    if hasattr(fitted, "a_") and hasattr(fitted, "b_"):
        return _Calibrator("sigmoid", a=float(fitted.a_), b=float(fitted.b_))
    if hasattr(fitted, "X_thresholds_") and hasattr(fitted, "y_thresholds_"):
        if getattr(fitted, "out_of_bounds", "clip") != "clip":
            raise InvalidValueError(
                f"an isotonic calibrator must clip out-of-range values, not {fitted.out_of_bounds!r}"
            )
        return _Calibrator(
            "isotonic",
            x_min=float(fitted.X_min_),
            x_max=float(fitted.X_max_),
            x=np.asarray(fitted.X_thresholds_, dtype=np.float64),
            y=np.asarray(fitted.y_thresholds_, dtype=np.float64),
        )
    raise InvalidValueError(
        f"calibrator {type(fitted).__name__} is not supported (only sigmoid and isotonic calibration are linear to read)"
    )


@dataclass(frozen=True)
class _LinearTfidfModel:
    """A tf-idf vectoriser and a calibrated ensemble of linear classifiers, as arrays."""

    analyze: Callable[[str], list[str]]
    vocabulary: dict[str, int]
    binary: bool
    sublinear_tf: bool
    idf: np.ndarray | None  # (n_features,), None when the vectoriser uses no idf
    norm: str | None  # "l2", "l1" or None
    weights: np.ndarray  # (n_classifiers, n_features): each linear classifier's coefficients
    intercepts: np.ndarray  # (n_classifiers,)
    calibrators: tuple[_Calibrator, ...]

    @classmethod
    def from_sklearn(cls, vectorizer: Any, classifier: Any) -> _LinearTfidfModel:
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model._base import LinearClassifierMixin

        if not isinstance(vectorizer, TfidfVectorizer) or not hasattr(vectorizer, "vocabulary_"):
            raise InvalidTypeError(f"expected a fitted sklearn TfidfVectorizer, got {type(vectorizer).__name__}")
        if not isinstance(classifier, CalibratedClassifierCV) or not hasattr(classifier, "calibrated_classifiers_"):
            raise InvalidTypeError(f"expected a fitted sklearn CalibratedClassifierCV, got {type(classifier).__name__}")
        if len(classifier.classes_) != 2:
            raise InvalidValueError(f"expected a binary classifier, got classes {list(classifier.classes_)}")
        if vectorizer.norm not in ("l2", "l1", None) or np.dtype(vectorizer.dtype) != np.float64:
            raise InvalidValueError(
                f"expected a float64 tf-idf vectoriser with norm 'l2', 'l1' or None, got {vectorizer.norm!r}, "
                f"{np.dtype(vectorizer.dtype)}"
            )
        n_features = len(vectorizer.vocabulary_)
        weights, intercepts, calibrators = [], [], []
        for calibrated in classifier.calibrated_classifiers_:
            estimator = getattr(calibrated, "estimator", None) or calibrated.base_estimator
            # scikit-learn calibrates decision_function when there is one; only the linear one is read here.
            if getattr(type(estimator), "decision_function", None) is not LinearClassifierMixin.decision_function:
                raise InvalidValueError(
                    f"{type(estimator).__name__} is not a linear classifier (its decision_function is not "
                    "sklearn's linear one)"
                )
            coef = np.asarray(estimator.coef_, dtype=np.float64)
            if coef.shape != (1, n_features) or len(calibrated.calibrators) != 1:
                raise InvalidValueError(f"expected one binary linear classifier over {n_features} features")
            if list(estimator.classes_) != list(classifier.classes_):
                raise InvalidValueError("a calibrated classifier's classes differ from the ensemble's")
            weights.append(coef[0])
            intercepts.append(float(np.asarray(estimator.intercept_).reshape(-1)[0]))
            calibrators.append(_calibrator(calibrated.calibrators[0]))
        idf = getattr(vectorizer, "idf_", None)  # absent when use_idf=False
        return cls(
            analyze=vectorizer.build_analyzer(),
            vocabulary={str(token): int(index) for token, index in vectorizer.vocabulary_.items()},
            binary=bool(vectorizer.binary),
            sublinear_tf=bool(vectorizer.sublinear_tf),
            idf=None if idf is None else np.asarray(idf, dtype=np.float64),
            norm=vectorizer.norm,
            weights=np.ascontiguousarray(weights, dtype=np.float64),
            intercepts=np.asarray(intercepts, dtype=np.float64),
            calibrators=tuple(calibrators),
        )

    def probabilities(self, texts: list[str]) -> np.ndarray:
        """The positive class's calibrated probability of each text, as ``CalibratedClassifierCV.predict_proba``."""
        n = len(texts)
        if n == 0:
            return np.zeros(0, dtype=np.float64)
        get = self.vocabulary.get
        ids = [[i for i in map(get, self.analyze(text)) if i is not None] for text in texts]
        lengths = np.fromiter(map(len, ids), dtype=np.int64, count=n)
        flat = np.fromiter(itertools.chain.from_iterable(ids), dtype=np.int64, count=int(lengths.sum()))
        n_features = self.weights.shape[1]
        # One (document, feature) key per token; np.unique sorts them, so within a document the features come
        # in ascending order, as in scikit-learn's CSR matrix (whose rows it sums in that order).
        keys, counts = np.unique(
            np.repeat(np.arange(n, dtype=np.int64), lengths) * n_features + flat, return_counts=True
        )
        rows, features = np.divmod(keys, n_features)
        values = np.ones(keys.shape[0]) if self.binary else counts.astype(np.float64)
        if self.sublinear_tf:
            np.log(values, values)
            values += 1.0
        if self.idf is not None:
            values *= self.idf[features]
        if self.norm is not None:
            per_row = values * values if self.norm == "l2" else np.abs(values)
            norms = np.bincount(rows, weights=per_row, minlength=n)
            if self.norm == "l2":
                norms = np.sqrt(norms)
            norms[norms == 0.0] = 1.0  # an empty row stays empty, as in scikit-learn
            values /= norms[rows]
        total = np.zeros(n, dtype=np.float64)
        for weights, intercept, calibrator in zip(self.weights, self.intercepts, self.calibrators):
            decision = np.bincount(rows, weights=values * weights[features], minlength=n) + intercept
            total += calibrator(decision)
        total /= len(self.calibrators)
        return total


@functools.lru_cache(maxsize=1)
def _package_model() -> tuple[_LinearTfidfModel, str]:
    vectorizer, classifier = package_pipeline()
    try:
        release = package_version("alt-profanity-check")
    except PackageNotFoundError:  # pragma: no cover - importable but not installed as a distribution
        release = "unknown"
    return _LinearTfidfModel.from_sklearn(vectorizer, classifier), f"alt-profanity-check-{release}"


class ProfanityToxicity:
    """Toxicity as ``alt-profanity-check``'s calibrated probability, batched and without per-call overhead.

    With no arguments it scores with the package's shipped model (read once per process, shared by every
    instance); give a fitted scikit-learn ``TfidfVectorizer`` and ``CalibratedClassifierCV`` over linear
    classifiers (sigmoid or isotonic calibration) to score with a model of one's own the same way.
    ``toxicity(texts)`` equals ``profanity_check.predict_prob(texts)`` (to rounding) for every list of
    strings, and also takes an empty list.

    ``version`` names the package's release (its model ships with it), or is None for a model of one's own.

    Example:
        >>> import numpy as np
        >>> from profanity_check import predict_prob
        >>> scorer = ProfanityToxicity()
        >>> texts = ["Thank you for the lovely afternoon.", "", "Totally fine 🙂"]
        >>> probabilities = scorer.toxicity(texts)
        >>> probabilities.shape, bool(np.all((0 <= probabilities) & (probabilities <= 1)))
        ((3,), True)
        >>> bool(np.allclose(probabilities, predict_prob(texts), rtol=0, atol=1e-9))
        True
        >>> scorer.name, scorer.version.startswith("alt-profanity-check-")
        ('profanity-check', True)
    """

    name: str = "profanity-check"

    def __init__(self, vectorizer: Any = None, classifier: Any = None) -> None:
        if (vectorizer is None) != (classifier is None):
            raise InvalidValueError("give both a fitted vectorizer and a fitted classifier, or neither (the package's)")
        self.version: str | None
        if vectorizer is None:
            self._model, self.version = _package_model()
        else:
            self._model, self.version = _LinearTfidfModel.from_sklearn(vectorizer, classifier), None

    def toxicity(self, texts: Sequence[str]) -> np.ndarray:
        """The calibrated probability that each text is toxic (offensive or profane), in [0, 1]."""
        return self._model.probabilities(check_texts(texts))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(version={self.version!r})"
