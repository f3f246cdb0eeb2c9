"""Atomic training checkpoints: write to a temporary file, then ``os.replace`` it into place.

A checkpoint holds everything a run needs to continue *exactly* as if it had never stopped: the
policy and critic weights, the optimiser and scheduler, the KL controller, every random-number
generator's state and the metrics so far. It is a plain ``torch.save`` dictionary of tensors and
Python primitives, loaded with ``weights_only=True`` (no code runs on load).

A file that is missing, truncated, not a checkpoint or from another format version raises
:class:`CheckpointError` naming the file and the problem.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch

from fg_env.atomic import atomic_torch_save

FORMAT = "fg_env.agents.ppo-checkpoint"
VERSION = 1
CHECKPOINT_NAME = "checkpoint.pt"
REQUIRED_KEYS = ("format", "version", "iteration", "trainer", "rng", "metrics", "config")


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used: missing, corrupt, or written by something else."""


def rng_state(np_rng: np.random.Generator) -> dict[str, Any]:
    """The state of every random-number generator a training run draws from."""
    return {
        "torch": torch.get_rng_state(),
        "numpy_trainer": np_rng.bit_generator.state,
        "numpy_global": _numpy_global_state(),
        "python": random.getstate(),
    }


def set_rng_state(state: Mapping[str, Any], np_rng: np.random.Generator) -> None:
    """Restore what :func:`rng_state` captured."""
    torch.set_rng_state(state["torch"])
    np_rng.bit_generator.state = state["numpy_trainer"]
    kind, keys, pos, has_gauss, cached = state["numpy_global"]
    np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    python = state["python"]
    random.setstate((python[0], tuple(python[1]), python[2]))


def _numpy_global_state() -> tuple[str, list[int], int, int, float]:
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    # Lists of ints load under weights_only=True; numpy arrays would not.
    return str(kind), [int(k) for k in keys], int(pos), int(has_gauss), float(cached)


def save_checkpoint(path: str | os.PathLike[str], payload: Mapping[str, Any]) -> Path:
    """Write ``payload`` (plus format and version) atomically to ``path``; return the path.

    The bytes go to a temporary file in the same folder, are flushed to disk, then renamed over
    ``path``: a run killed mid-write leaves the previous checkpoint intact.

    Example:
        >>> import tempfile, pathlib
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> p = save_checkpoint(folder / "c.pt", {"iteration": 2, "trainer": {}, "rng": {}, "metrics": [], "config": {}})
        >>> load_checkpoint(p)["iteration"]
        2
    """
    path = Path(path)
    atomic_torch_save({"format": FORMAT, "version": VERSION, **payload}, path)
    return path


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check a checkpoint written by :func:`save_checkpoint`.

    ``path`` may be the file or the run folder that holds ``checkpoint.pt``.
    """
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT_NAME
    if not path.is_file():
        raise CheckpointError(f"checkpoint {str(path)!r} does not exist")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - a damaged file can fail inside the unpickler in any way
        raise CheckpointError(f"checkpoint {str(path)!r} is corrupt or not a checkpoint ({type(error).__name__}: {error})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint {str(path)!r} is not an fg_env PPO checkpoint")
    if data.get("version") != VERSION:
        raise CheckpointError(f"checkpoint {str(path)!r} has format version {data.get('version')!r}; this code reads version {VERSION}")
    missing = [key for key in REQUIRED_KEYS if key not in data]
    if missing:
        raise CheckpointError(f"checkpoint {str(path)!r} is incomplete: missing {', '.join(missing)}")
    return data
