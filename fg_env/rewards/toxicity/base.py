"""The toxicity-scorer contract: a batch of texts in, one toxicity probability in [0, 1] per text out.

A scorer is any object with a ``name``, a ``version`` and a ``toxicity(texts)`` method
(:class:`ToxicityScorer`; no base class to inherit). The detoxification task asks it for the toxicity of
the continuation so far after every sentence, for every sub-environment at once, so scorers take a whole
batch per call. :func:`checked_toxicity` calls one and checks what it gives back, so a scorer of the user's
that answers the wrong shape or a value outside [0, 1] is named instead of becoming a reward.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from fg_env.errors import InvalidTypeError, InvalidValueError

__all__ = ["ToxicityScorer", "check_texts", "checked_toxicity"]


@runtime_checkable
class ToxicityScorer(Protocol):
    """Maps a batch of texts to their toxicity probabilities: ``toxicity(texts)`` gives a float64 array of
    shape ``(len(texts),)`` with values in [0, 1], in the order of ``texts``.

    ``name`` is the scorer's registry name (or any label of a scorer of one's own); ``version`` says which
    scorer gave the scores, so results can record it (a string that changes whenever a score on any text
    changes), or None when it has none to give. A scorer fails loudly: when it cannot score a text it
    raises, and never returns a made-up value in its place.

    Example:
        >>> import numpy as np
        >>> class Shouting:
        ...     name, version = "shouting", "1"
        ...     def toxicity(self, texts):
        ...         return np.array([float(t.isupper()) for t in texts])
        >>> isinstance(Shouting(), ToxicityScorer)
        True
        >>> checked_toxicity(Shouting(), ["HEY", "hello"]).tolist()
        [1.0, 0.0]
    """

    name: str
    version: str | None

    def toxicity(self, texts: Sequence[str]) -> np.ndarray:
        """The toxicity probability of each text, in [0, 1], as a float64 array of shape ``(len(texts),)``."""
        ...


def check_texts(texts: Sequence[str]) -> list[str]:
    """``texts`` as a list of strings, or an :class:`~fg_env.errors.InvalidTypeError` naming the first item that
    is not one (a bare string is refused: it would be scored one character at a time).

    Example:
        >>> check_texts(("a", "b"))
        ['a', 'b']
        >>> check_texts("ab")
        Traceback (most recent call last):
        ...
        fg_env.errors.InvalidTypeError: texts to score must be a sequence of strings, not a single str (wrap it in a list)
    """
    if isinstance(texts, (str, bytes)):
        raise InvalidTypeError(
            f"texts to score must be a sequence of strings, not a single {type(texts).__name__} (wrap it in a list)"
        )
    try:
        items = list(texts)
    except TypeError:
        raise InvalidTypeError(f"texts to score must be a sequence of strings, not {type(texts).__name__}") from None
    for index, text in enumerate(items):
        if not isinstance(text, str):
            raise InvalidTypeError(f"texts to score must be strings; item {index} is a {type(text).__name__}")
    return items


def checked_toxicity(scorer: ToxicityScorer, texts: Sequence[str]) -> np.ndarray:
    """``scorer.toxicity(texts)``, checked: a float64 array of shape ``(len(texts),)``, finite, in [0, 1].

    Raises :class:`~fg_env.errors.InvalidValueError` naming the scorer and the first bad value otherwise.
    """
    items = check_texts(texts)
    name = getattr(scorer, "name", type(scorer).__name__)
    raw = scorer.toxicity(items)  # a scorer's own errors propagate: no score is made up in their place
    try:
        values = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InvalidValueError(f"toxicity scorer {name!r} did not return numbers: {error}") from None
    if values.shape != (len(items),):
        raise InvalidValueError(
            f"toxicity scorer {name!r} returned shape {values.shape} for {len(items)} texts (expected ({len(items)},))"
        )
    bad = np.flatnonzero(~(np.isfinite(values) & (values >= 0.0) & (values <= 1.0)))
    if bad.size:
        raise InvalidValueError(
            f"toxicity scorer {name!r} returned {values[bad[0]]!r} for text {int(bad[0])}, outside [0, 1]"
        )
    return values
