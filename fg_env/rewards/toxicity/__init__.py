"""Toxicity scorers for the detoxification task: a batch of texts in, toxicity probabilities in [0, 1] out.

=================  ================================  =======================================================
name               class                             what it needs
=================  ================================  =======================================================
profanity-check    :class:`ProfanityToxicity`        ``pip install "fg-env[detox]"`` (the default:
                                                     ``alt-profanity-check``'s offline model, read once and
                                                     scored with numpy)
detoxify           :class:`DetoxifyToxicity`         a Detoxify checkpoint file on disk (never downloaded)
                                                     and ``pip install "fg-env[detoxify]"``
perspective        :class:`PerspectiveToxicity`      a Perspective API key (``PERSPECTIVE_API_KEY``) and
                                                     the network
=================  ================================  =======================================================

Pick one by name (:func:`make_toxicity_scorer`, with its settings as keyword arguments: a setting missing or
unknown raises :class:`~fg_env.errors.InvalidTypeError` naming it and the scorer's settings) or pass any
object that follows :class:`ToxicityScorer`. The scorer modules are imported only when a scorer is built.

Example:
    >>> scorer = make_toxicity_scorer("profanity-check")
    >>> checked_toxicity(scorer, ["What a kind thing to say.", ""]).shape
    (2,)
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from fg_env.errors import InvalidTypeError
from fg_env.rewards.toxicity.base import ToxicityScorer, check_texts, checked_toxicity
from fg_env.rewards.toxicity.registry import (
    DEFAULT_TOXICITY_SCORER,
    ENTRY_POINT_GROUP,
    available_toxicity_scorers,
    make_toxicity_scorer,
    register_toxicity_scorer,
)

if TYPE_CHECKING:
    from fg_env.rewards.toxicity.detoxify import DetoxifyToxicity
    from fg_env.rewards.toxicity.perspective import PerspectiveToxicity
    from fg_env.rewards.toxicity.profanity import ProfanityToxicity

__all__ = [
    "DEFAULT_TOXICITY_SCORER",
    "ENTRY_POINT_GROUP",
    "DetoxifyToxicity",
    "PerspectiveToxicity",
    "ProfanityToxicity",
    "ToxicityScorer",
    "available_toxicity_scorers",
    "check_texts",
    "checked_toxicity",
    "make_toxicity_scorer",
    "register_toxicity_scorer",
]

_CLASSES = {
    "ProfanityToxicity": ("fg_env.rewards.toxicity.profanity", "profanity-check"),
    "DetoxifyToxicity": ("fg_env.rewards.toxicity.detoxify", "detoxify"),
    "PerspectiveToxicity": ("fg_env.rewards.toxicity.perspective", "perspective"),
}


def __getattr__(name: str) -> Any:  # the scorer classes load their modules (scikit-learn...) on first use
    if name in _CLASSES:
        import importlib

        return getattr(importlib.import_module(_CLASSES[name][0]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _factory(class_name: str, scorer_name: str) -> Any:
    def build(**kwargs: Any) -> ToxicityScorer:
        scorer_class = __getattr__(class_name)
        signature = inspect.signature(scorer_class)
        try:
            signature.bind(**kwargs)
        except TypeError as error:  # a setting missing or unknown: named with the scorer's, not deep in its __init__
            settings = ", ".join(signature.parameters)
            raise InvalidTypeError(f"toxicity scorer {scorer_name!r}: {error} (its settings: {settings})") from None
        return scorer_class(**kwargs)

    build.__name__ = build.__qualname__ = f"make_{class_name}"
    return build


for _class_name, (_module, _scorer_name) in _CLASSES.items():
    register_toxicity_scorer(_scorer_name, _factory(_class_name, _scorer_name))
