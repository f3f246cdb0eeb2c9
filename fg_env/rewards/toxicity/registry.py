"""Find toxicity scorers by name, or through the ``fg_env.toxicity_scorers`` entry-point group.

Named as reward models are (:mod:`fg_env.rewards.registry`): the built-in scorers are
``"profanity-check"`` (the default: offline, light), ``"detoxify"`` (a local Detoxify checkpoint) and
``"perspective"`` (the Perspective API: a key and the network). A package of one's own plugs one in by
declaring, in its ``pyproject.toml``::

    [project.entry-points."fg_env.toxicity_scorers"]
    my-scorer = "my_package.toxicity:MyScorer"   # a class or factory returning a ToxicityScorer
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from fg_env.errors import InvalidTypeError, InvalidValueError, UnknownChoiceError
from fg_env.rewards.toxicity.base import ToxicityScorer

__all__ = [
    "DEFAULT_TOXICITY_SCORER",
    "ENTRY_POINT_GROUP",
    "available_toxicity_scorers",
    "make_toxicity_scorer",
    "register_toxicity_scorer",
]

ENTRY_POINT_GROUP = "fg_env.toxicity_scorers"
#: The scorer used when none is named: offline, and light enough to score every step.
DEFAULT_TOXICITY_SCORER = "profanity-check"

_FACTORIES: dict[str, Callable[..., ToxicityScorer]] = {}


def register_toxicity_scorer(name: str, factory: Callable[..., ToxicityScorer]) -> None:
    """Make ``make_toxicity_scorer(name, **kwargs)`` call ``factory(**kwargs)``."""
    _FACTORIES[name] = factory


def _entry_point_factories() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def available_toxicity_scorers() -> list[str]:
    """Names that :func:`make_toxicity_scorer` accepts: built-in and installed plug-ins.

    Example:
        >>> available_toxicity_scorers()
        ['detoxify', 'perspective', 'profanity-check']
    """
    return sorted(set(_FACTORIES) | set(_entry_point_factories()))


def _validated(scorer: object, source: str) -> ToxicityScorer:
    if not isinstance(scorer, ToxicityScorer):
        raise InvalidTypeError(
            f"{source} gave {type(scorer).__name__}, not a toxicity scorer "
            "(an object with name, version and toxicity(texts); see fg_env.rewards.toxicity.ToxicityScorer)"
        )
    return scorer


def make_toxicity_scorer(spec: str | ToxicityScorer = DEFAULT_TOXICITY_SCORER, **kwargs: Any) -> ToxicityScorer:
    """A toxicity scorer from a registered name (built with ``kwargs``) or a scorer object (returned as is).

    Example:
        >>> make_toxicity_scorer().name
        'profanity-check'
        >>> make_toxicity_scorer("perspectiv")
        Traceback (most recent call last):
        ...
        fg_env.errors.UnknownChoiceError: unknown toxicity scorer 'perspectiv'; valid choices: detoxify, perspective, profanity-check
    """
    if isinstance(spec, str):
        if spec in _FACTORIES:
            return _validated(_FACTORIES[spec](**kwargs), f"toxicity scorer {spec!r}")
        plugins = _entry_point_factories()
        if spec in plugins:
            return _validated(plugins[spec].load()(**kwargs), f"toxicity scorer plug-in {spec!r}")
        raise UnknownChoiceError("toxicity scorer", spec, available_toxicity_scorers())
    scorer = _validated(spec, "the toxicity scorer given")
    if kwargs:
        raise InvalidValueError(
            f"settings {sorted(kwargs)} are for building a scorer by name; the {type(spec).__name__} given is already built"
        )
    return scorer
