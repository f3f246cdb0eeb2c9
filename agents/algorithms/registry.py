"""Trainers found by name, as reward schemes are (:mod:`agents.experiments.schemes`).

A trainer is two things: a **settings** dataclass (TRL's convention: one field per setting, each with its
``metadata["help"]``, which becomes its flag) and a **trainer** class that trains an
:class:`~agents.policies.policy.LMPolicy` in a scheme-wrapped environment. The experiments (``fg-env train``,
``compare``, ``sweep-weights``, ``learned-vs-exact``) only use the protocol below, so a new trainer is one
:func:`register_trainer` call away from every command (``--trainer NAME``); its pieces come from
:mod:`agents.algorithms.lm_rl`. PPO (:mod:`agents.algorithms.ppo`) is the first entry.

Example:
    >>> entry = get_trainer("ppo")
    >>> entry.settings.__name__, entry.trainer.__name__
    ('PPOConfig', 'FineGrainedPPO')
    >>> get_trainer("dpo")
    Traceback (most recent call last):
    ...
    fg_env.errors.UnknownChoiceError: unknown trainer 'dpo'; valid choices: ppo
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, is_dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from fg_env.errors import InvalidValueError, UnknownChoiceError

if TYPE_CHECKING:
    from agents.algorithms.distributed import Processes

__all__ = [
    "DEFAULT_TRAINER",
    "TRAINERS",
    "Trainer",
    "TrainerEntry",
    "TrainerSettings",
    "available_trainers",
    "get_trainer",
    "register_trainer",
]

DEFAULT_TRAINER = "ppo"


class TrainerSettings(Protocol):
    """What the experiments read of a trainer's settings dataclass (PPOConfig is one).

    ``episodes_per_iteration`` is the global batch: the budget of a run is ``iterations`` times it.
    ``max_new_tokens`` is the longest answer, in training and in evaluation. ``to_dict`` is what a run's
    record and key hold; ``from_dict`` rebuilds the settings from it, refusing unknown names.
    """

    __dataclass_fields__: ClassVar[dict[str, Any]]  # a dataclass: dataclasses.replace sets its seed and budget
    seed: int
    iterations: int
    max_new_tokens: int

    @property
    def episodes_per_iteration(self) -> int: ...

    def to_dict(self) -> dict[str, Any]: ...

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Any: ...


class Trainer(Protocol):
    """What the experiments call on a trainer: built from the policy, the scheme-wrapped environment, its
    settings and (optionally) an environment of exact rewards to score every rollout by, and this process's
    place in a data-parallel run; then trained, resumed and saved."""

    def __init__(
        self, policy: Any, env: Any, config: Any, *, exact_env: Any = None, processes: Processes | None = None
    ) -> None: ...

    def train(
        self,
        out_dir: str | os.PathLike[str] | None = None,
        *,
        progress: bool = True,
        on_iteration: Callable[[dict[str, Any]], None] | None = None,
        report_to: Sequence[str] = (),
    ) -> list[dict[str, Any]]:
        """Train until ``iterations`` (or the trainer's own stop); each iteration's metrics hold at least
        ``iteration``, ``episodes`` (so far) and ``return``. With ``out_dir``, write ``metrics.jsonl`` and
        checkpoints there."""
        ...

    def load_checkpoint(self, path: str | os.PathLike[str]) -> Any:
        """Restore a run written by ``train`` (the checkpoint at ``path``) to continue it."""
        ...

    def save_policy(self, path: str | os.PathLike[str]) -> None:
        """Save the trained policy as a plain model folder (``LMPolicy.from_pretrained`` loads it)."""
        ...


def _no_check(policy_path: str | os.PathLike[str] | None, settings: Any, processes: Processes) -> None:
    """A trainer with nothing to check before its models load."""


@dataclass(frozen=True)
class TrainerEntry:
    """A registered trainer: its name, a line for ``--help``, its settings class and trainer class, and a
    check that runs before any model loads (the policy's folder, or None before the policy is known).

    Example:
        >>> from agents.algorithms.distributed import Processes
        >>> entry = get_trainer("ppo")
        >>> entry.check(None, entry.settings(), Processes(1, 0))  # nothing to complain about
    """

    name: str
    description: str
    settings: type[Any]
    trainer: Callable[..., Trainer]
    check: Callable[[str | os.PathLike[str] | None, Any, Processes], None] = _no_check

    def __post_init__(self) -> None:
        if not is_dataclass(self.settings):
            raise InvalidValueError(f"trainer {self.name!r}: its settings must be a dataclass (their fields are flags)")
        for name in ("from_dict", "to_dict", "episodes_per_iteration"):
            if not hasattr(self.settings, name):
                raise InvalidValueError(
                    f"trainer {self.name!r}: its settings class {self.settings.__name__} has no {name}"
                )

    def make_settings(self, values: Mapping[str, Any]) -> Any:
        """The settings from field values (``from_dict`` checks the names and the numbers)."""
        return self.settings.from_dict(dict(values))


# Filled on first use (_builtins), so that importing the registry imports no torch: the settings and run
# descriptions of agents.experiments import it, and Stable-Baselines3's worker processes import those.
TRAINERS: dict[str, TrainerEntry] = {}


def _builtins() -> dict[str, TrainerEntry]:
    """:data:`TRAINERS`, with PPO registered first."""
    if DEFAULT_TRAINER not in TRAINERS:
        from agents.algorithms.ppo import FineGrainedPPO, PPOConfig, check_run

        ppo = TrainerEntry(
            DEFAULT_TRAINER,
            "fine-grained PPO (the paper's): token rewards, KL penalty, GAE, clipped updates",
            PPOConfig,
            FineGrainedPPO,
            check=check_run,
        )
        TRAINERS.update({DEFAULT_TRAINER: ppo, **TRAINERS})
    return TRAINERS


def register_trainer(entry: TrainerEntry, *, replace: bool = False) -> TrainerEntry:
    """Add ``entry`` under its name (``replace=True`` to override one). Returns it."""
    if entry.name in _builtins() and not replace:
        raise InvalidValueError(f"a trainer named {entry.name!r} is already registered (pass replace=True)")
    TRAINERS[entry.name] = entry
    return entry


def get_trainer(name: str) -> TrainerEntry:
    """The trainer called ``name``; an unknown name raises an error listing the valid ones."""
    trainers = _builtins()
    if name not in trainers:
        raise UnknownChoiceError("trainer", name, list(trainers))
    return trainers[name]


def available_trainers() -> list[str]:
    """The registered trainers' names, PPO first."""
    return list(_builtins())
