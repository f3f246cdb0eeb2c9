"""One checkpoint format for every trainer of the project: SFT, reward models and PPO.

A checkpoint holds everything a run needs to continue *exactly* as if it had never stopped: the
model, the optimiser and the schedule, every random-number generator's state (:func:`fg_env.training.capture_rng`),
the metrics so far and the settings that wrote it. It is a plain ``torch.save`` dictionary of tensors
and Python primitives::

    {"format": "fg_env-checkpoint", "version": 1, "kind": "ppo" | "sft" | "reward-model",
     "config": {...}, "progress": <epochs or iterations done>, "model": ..., "optimizer": ...,
     "scheduler": ..., "rng": ..., "metrics": ..., <anything else the trainer adds>}

It is written atomically (:func:`fg_env.atomic.atomic_torch_save`: a run killed mid-write leaves the
previous checkpoint intact) and always read with ``torch.load(weights_only=True)``, so loading one
runs no code. A file that is missing, corrupt, of another kind or of another format version raises
:class:`CheckpointError` naming the file and the problem.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import torch

from fg_env.atomic import atomic_torch_save
from fg_env.errors import CheckpointError, InvalidValueError

__all__ = [
    "CHECKPOINT_NAME",
    "FORMAT",
    "KINDS",
    "REQUIRED_KEYS",
    "VERSION",
    "CheckpointError",
    "check_settings",
    "load_checkpoint",
    "save_checkpoint",
]

FORMAT = "fg_env-checkpoint"
VERSION = 1
#: the trainers that write checkpoints: PPO (agents.algorithms.ppo), SFT (agents.policies.sft), reward models (fg_env.rewards.learned.train)
KINDS = ("ppo", "sft", "reward-model")
#: the file name of a run folder's checkpoint
CHECKPOINT_NAME = "checkpoint.pt"
#: what every checkpoint holds besides its format, version and kind
REQUIRED_KEYS = ("config", "progress", "model", "optimizer", "scheduler", "rng", "metrics")


def save_checkpoint(path: str | os.PathLike[str], kind: str, state: Mapping[str, Any]) -> Path:
    """Write ``state`` as a ``kind`` checkpoint, atomically, to ``path``; return the path.

    ``state`` must hold :data:`REQUIRED_KEYS`; it may hold more. ``path`` may be a folder, which then
    receives :data:`CHECKPOINT_NAME`.

    Example:
        >>> import tempfile, pathlib
        >>> state = dict(config={"lr": 0.1}, progress=2, model={}, optimizer={}, scheduler={}, rng={}, metrics=[])
        >>> path = save_checkpoint(pathlib.Path(tempfile.mkdtemp()) / "c.pt", "sft", state)
        >>> load_checkpoint(path, "sft")["progress"]
        2
    """
    if kind not in KINDS:
        raise InvalidValueError(f"checkpoint kind must be one of {', '.join(KINDS)}, got {kind!r}")
    missing = [key for key in REQUIRED_KEYS if key not in state]
    if missing:
        raise InvalidValueError(f"a checkpoint needs {', '.join(missing)}")
    path = _file(path)
    atomic_torch_save({"format": FORMAT, "version": VERSION, "kind": kind, **state}, path)
    return path


def load_checkpoint(path: str | os.PathLike[str], kind: str | None = None) -> dict[str, Any]:
    """Read and check a checkpoint written by :func:`save_checkpoint`, of ``kind`` (None: any kind).

    ``path`` may be the file or the run folder that holds :data:`CHECKPOINT_NAME`. Loading uses
    ``weights_only=True``: a file that needs anything but tensors and primitives is refused.

    Example:
        >>> import tempfile, pathlib
        >>> load_checkpoint(pathlib.Path(tempfile.mkdtemp()) / "none.pt")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        fg_env.errors.CheckpointError: checkpoint '.../none.pt' does not exist
    """
    path = _file(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {str(path)!r} does not exist")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - a damaged file can fail inside the unpickler in any way
        raise CheckpointError(
            f"checkpoint {str(path)!r} is corrupt or not a checkpoint ({type(error).__name__}: {error})"
        ) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise CheckpointError(
            f"checkpoint {str(path)!r} is not an fg_env checkpoint (format {found!r}, expected {FORMAT!r})"
        )
    if data.get("version") != VERSION:
        raise CheckpointError(
            f"checkpoint {str(path)!r} has format version {data.get('version')!r}; this code reads version {VERSION}"
        )
    if kind is not None and data.get("kind") != kind:
        raise CheckpointError(f"checkpoint {str(path)!r} is a {data.get('kind')!r} checkpoint, not a {kind!r} one")
    missing = [key for key in ("kind", *REQUIRED_KEYS) if key not in data]
    if missing:
        raise CheckpointError(f"checkpoint {str(path)!r} is incomplete: missing {', '.join(missing)}")
    return data


def check_settings(
    path: str | os.PathLike[str], saved: Mapping[str, Any], current: Mapping[str, Any], *, ignore: Iterable[str] = ()
) -> None:
    """Raise :class:`CheckpointError` naming the settings that differ between a checkpoint and this run.

    ``ignore`` names settings a resumed run may change (e.g. PPO's number of iterations).

    Example:
        >>> check_settings("c.pt", {"lr": 0.1, "epochs": 2}, {"lr": 0.2, "epochs": 3}, ignore=["epochs"])
        Traceback (most recent call last):
        ...
        fg_env.errors.CheckpointError: checkpoint 'c.pt' was written with other settings (lr); resume with the same ones
    """
    skipped = set(ignore)
    names = (set(saved) | set(current)) - skipped
    different = sorted(
        name for name in names if name not in saved or name not in current or saved[name] != current[name]
    )
    if different:
        raise CheckpointError(
            f"checkpoint {str(path)!r} was written with other settings ({', '.join(different)}); resume with the same ones"
        )


def _file(path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    return path / CHECKPOINT_NAME if path.is_dir() else path
