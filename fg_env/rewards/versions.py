"""Which scorers gave a result: one record, written the same way by every writer of results.

A result is only as reproducible as the ruler that scored it. The built-in world's annotator owns a version
(:data:`~fg_env.data.synthetic.annotator.ANNOTATOR_VERSION`, bumped by any change to a verdict on any text),
and every reward model may give one (:attr:`fg_env.rewards.base.RewardModel.version`: the annotator-backed
models report the annotator's, learned ones their checkpoint's identity). An environment lists its models'
versions by name (``env.unwrapped.reward_versions``), so a writer records them without knowing which models
the environment uses.

Every ``results.json`` (and a run's ``result.json``, an evaluation's output...) carries the record
:func:`scored_by` builds under the field :data:`SCORED_BY`::

    "scored_by": {"annotator": "2026.12.0", "reward_models": {"preference": "learned-preference-0123456789ab"}}

``annotator`` is there when the built-in annotator scored anything of the result (rewards or evaluation);
``reward_models`` lists the other reward models' versions (the annotator-backed ones are the annotator's).
A Markdown report prints :func:`caption` of it in its caption line, and a resumed experiment compares the
record it finds with the one at hand (:func:`check_same_scorers`), refusing to mix two.

Example:
    >>> import gymnasium as gym
    >>> import fg_env
    >>> from fg_env.data.synthetic.annotator import ANNOTATOR_VERSION
    >>> env = gym.make("FineGrainedQA-v0")
    >>> reward_versions(env) == dict.fromkeys(("relevance", "factuality", "completeness"), ANNOTATOR_VERSION)
    True
    >>> scored_by(env) == {"annotator": ANNOTATOR_VERSION}
    True
    >>> caption({"annotator": "2026.12.0"})
    'scored by annotator 2026.12.0'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fg_env.errors import InvalidTypeError, ScorerVersionError

__all__ = [
    "SCORED_BY",
    "annotator_version",
    "caption",
    "check_same_scorers",
    "merged",
    "reward_versions",
    "scored_by",
]

#: The field of a results file that holds :func:`scored_by`'s record.
SCORED_BY = "scored_by"


def annotator_version() -> str:
    """The built-in annotator's version (:data:`~fg_env.data.synthetic.annotator.ANNOTATOR_VERSION`).

    Example:
        >>> annotator_version().count(".")
        2
    """
    # Imported here: the annotator module is heavy, and `import fg_env.rewards` must stay light.
    from fg_env.data.synthetic.annotator import ANNOTATOR_VERSION

    return ANNOTATOR_VERSION


def reward_versions(env: Any) -> dict[str, str | None]:
    """``{reward model name: version}`` of ``env``'s reward models, through any wrappers, the native vector env,
    or a Gymnasium vector env of wrapped copies (its first sub-env's).

    Example:
        >>> import gymnasium as gym
        >>> import fg_env
        >>> sorted(reward_versions(gym.make("FineGrainedQA-v0", reward_models=["relevance"])))
        ['relevance']
    """
    inner = getattr(env, "unwrapped", env)
    versions = getattr(inner, "reward_versions", None)
    if versions is None and getattr(inner, "envs", None):  # gym.vector.SyncVectorEnv of views (SB3's candidates)
        return reward_versions(inner.envs[0])
    if versions is None:
        raise InvalidTypeError(
            f"{type(inner).__name__} has no reward_versions: give a fg_env environment (FineGrainedEnv or its vector env)"
        )
    return dict(versions)


def scored_by(*scorers: Any, annotator: bool = False) -> dict[str, Any]:
    """The record of what scored a result: ``annotator`` (its version) when ``annotator`` is true or any of
    ``scorers`` (environments, wrapped or vector, or reward models) has an annotator-backed reward model, and
    ``reward_models`` (``{name: version}``) for the other reward models (a name given two versions lists both,
    sorted).

    Example:
        >>> scored_by(annotator=True) == {"annotator": annotator_version()}
        True
        >>> from fg_env.rewards.base import RewardModel
        >>> class Shouting(RewardModel):
        ...     name, granularity, bounds, version = "shouting", "sentence", (-1.0, 1.0), "1"
        ...     def score(self, requests): return []
        >>> scored_by(Shouting())
        {'reward_models': {'shouting': '1'}}
        >>> scored_by()
        {}
    """
    from fg_env.rewards.annotator_models import ANNOTATOR_REWARD_MODELS
    from fg_env.rewards.base import RewardModel

    annotator_backed = tuple(ANNOTATOR_REWARD_MODELS.values())
    others: dict[str, set[str | None]] = {}
    for env in scorers:
        inner = getattr(env, "unwrapped", env)
        models = (env,) if isinstance(env, RewardModel) else getattr(inner, "reward_models", None)
        if models is None:  # a Gymnasium vector env of views: read the versions, not the models
            for name, version in reward_versions(env).items():
                if version == annotator_version():
                    annotator = True
                else:
                    others.setdefault(name, set()).add(version)
            continue
        for model in models:
            if isinstance(model, annotator_backed):
                annotator = True
            else:
                others.setdefault(model.name, set()).add(model.version)
    record: dict[str, Any] = {}
    if annotator:
        record["annotator"] = annotator_version()
    if others:
        record["reward_models"] = {name: _one_or_sorted(versions) for name, versions in sorted(others.items())}
    return record


def merged(*records: Mapping[str, Any] | None) -> dict[str, Any]:
    """One record of what scored the results of several records (an experiment's runs): the annotator's
    version when any names it (two versions listed, sorted, though a resumed experiment refuses that), and
    every reward model's versions.

    Example:
        >>> merged({"annotator": "2026.12.0"}, {"annotator": "2026.12.0", "reward_models": {"preference": "p1"}}, None)
        {'annotator': '2026.12.0', 'reward_models': {'preference': 'p1'}}
    """
    annotators: set[str] = set()
    models: dict[str, set[Any]] = {}
    for record in records:
        if not record:
            continue
        if "annotator" in record:
            annotators.update(_as_list(record["annotator"]))
        for name, version in (record.get("reward_models") or {}).items():
            models.setdefault(name, set()).update(_as_list(version))
    out: dict[str, Any] = {}
    if annotators:
        out["annotator"] = _one_or_sorted(annotators)
    if models:
        out["reward_models"] = {name: _one_or_sorted(versions) for name, versions in sorted(models.items())}
    return out


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _one_or_sorted(values: set[Any]) -> Any:
    return next(iter(values)) if len(values) == 1 else sorted(values, key=str)


def caption(record: Mapping[str, Any] | None) -> str:
    """What a Markdown report's caption line says of the scorers (``record``: :func:`scored_by`'s).

    Example:
        >>> caption({"annotator": "2026.12.0", "reward_models": {"preference": "learned-preference-ab12"}})
        'scored by annotator 2026.12.0, reward models preference=learned-preference-ab12'
        >>> caption(None)
        'scorer versions not recorded'
    """
    if not record:
        return "scorer versions not recorded"
    parts = []
    if "annotator" in record:
        parts.append(f"annotator {_said(record['annotator'])}")
    models = record.get("reward_models") or {}
    if models:
        parts.append("reward models " + ", ".join(f"{name}={_said(version)}" for name, version in models.items()))
    return "scored by " + ", ".join(parts)


def _said(version: Any) -> str:
    return " and ".join(map(str, version)) if isinstance(version, list) else str(version)


def check_same_scorers(previous: Mapping[str, Any] | None, current: Mapping[str, Any], where: str) -> None:
    """Refuse to resume or reuse results in ``where`` that ``previous`` (their record, None when they have none)
    says were scored otherwise than ``current`` says the new ones will be: the message names both.

    Example:
        >>> check_same_scorers({"annotator": "2026.12.0"}, {"annotator": "2026.12.0"}, "runs/x")
        >>> check_same_scorers({"annotator": "2026.12.0"}, {"annotator": "2026.12.1"}, "runs/x")
        Traceback (most recent call last):
        ...
        fg_env.errors.ScorerVersionError: runs/x holds results scored by annotator 2026.12.0, but this run is scored by annotator 2026.12.1: mixing them would compare numbers from two scorers; use another --out (or delete runs/x to score everything again)
    """
    if dict(previous or {}) == dict(current):
        return
    found = caption(previous) if previous else "with no scorer version recorded (written before versions were)"
    now = caption(current) if current else "scored by no versioned scorer"
    raise ScorerVersionError(
        f"{where} holds results {found}, but this run is {now}: mixing them would compare numbers "
        f"from two scorers; use another --out (or delete {where} to score everything again)"
    )
