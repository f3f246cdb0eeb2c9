"""The pieces every trainer of the project shares: SFT (``agents.policies.sft``), reward models
(:mod:`fg_env.rewards.learned.train`) and PPO (``agents.algorithms.ppo``).

- :func:`parameter_groups`: AdamW groups, weight decay on matrices only;
- :func:`make_schedule`: transformers' learning-rate schedules, read one step ahead (see there);
- :func:`capture_rng` / :func:`restore_rng`: every random-number generator a run draws from, as
  tensors and plain lists that ``torch.load(weights_only=True)`` reads back;
- :func:`training_state` / :func:`restore_training_state`: model, optimiser, schedule and RNG, the
  part of a checkpoint (:mod:`fg_env.checkpoint`) that all trainers have in common;
- :func:`read_log` / :func:`restart_log` / :func:`append_log`: ``metrics.jsonl``, cut back to the
  checkpoint when a run resumes, so the log describes the model.

A trainer then reads: build the optimiser and schedule; resume from a checkpoint if there is one;
run epochs (or iterations), appending to the log; after each, save a checkpoint.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.optim.lr_scheduler import LambdaLR

from fg_env.atomic import atomic_write_text
from fg_env.checkpoint import CheckpointError
from fg_env.errors import InvalidTypeError, InvalidValueError

__all__ = [
    "append_log",
    "capture_rng",
    "make_schedule",
    "parameter_groups",
    "read_log",
    "restart_log",
    "restore_rng",
    "restore_training_state",
    "training_state",
]

#: what :func:`capture_rng` accepts besides the global generators
Generator = np.random.Generator | random.Random | torch.Generator


# ---------------------------------------------------------------------------------------------- optimiser


def parameter_groups(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """Two AdamW parameter groups: ``weight_decay`` on matrices (``ndim >= 2``), none on biases and norms.

    As in BERT and GPT fine-tuning: decaying a bias or a norm's gain towards 0 only hurts. Parameters
    keep the model's order within each group, and frozen ones (``requires_grad=False``) are left out.

    Example:
        >>> groups = parameter_groups(nn.Sequential(nn.Linear(3, 2), nn.LayerNorm(2)), 0.01)
        >>> [[tuple(p.shape) for p in g["params"]] for g in groups], [g["weight_decay"] for g in groups]
        ([[(2, 3)], [(2,), (2,), (2,)]], [0.01, 0.0])
    """
    decay: list[nn.Parameter] = []
    no_decay: list[nn.Parameter] = []
    for parameter in model.parameters():
        if parameter.requires_grad:
            (decay if parameter.ndim >= 2 else no_decay).append(parameter)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def make_schedule(
    name: str, optimizer: torch.optim.Optimizer, warmup_steps: int, total_steps: int | None = None, **kwargs: Any
) -> LambdaLR:
    """transformers' schedule ``name`` (``"linear"``, ``"cosine_with_min_lr"``, ``"constant_with_warmup"``,
    ``"warmup_stable_decay"``...; see :func:`transformers.get_scheduler`) for ``optimizer``, one step ahead.

    transformers' schedules give the first update a factor of 0 (a wasted step: warm-up starts at
    ``0 / warmup_steps``). The project's trainers have always used the value one step ahead, so update
    ``k`` (counting from 0) runs at ``lr * schedule(k + 1)``: the first at ``lr / warmup_steps``, and the
    warm-up reaches the full rate on update ``warmup_steps - 1``. ``kwargs`` are the schedule's own
    arguments (``min_lr_rate=``, ``num_stable_steps=``...). Step it once after each ``optimizer.step()``.

    Example:
        >>> optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
        >>> schedule = make_schedule("linear", optimizer, warmup_steps=2, total_steps=6)
        >>> rates = []
        >>> for _ in range(6):
        ...     rates.append(round(schedule.get_last_lr()[0], 3)); optimizer.step(); schedule.step()
        >>> rates  # transformers' own sequence would be 0, 0.5, 1, 0.75, 0.5, 0.25
        [0.5, 1.0, 0.75, 0.5, 0.25, 0.0]
    """
    from transformers import get_scheduler

    # transformers builds a LambdaLR on the optimiser it is given (and sets its rate); build it on a
    # stand-in with the same base rate (``min_lr=`` is read relative to it), only to borrow its factor.
    stand_in = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=optimizer.defaults["lr"])
    template = get_scheduler(
        name,
        stand_in,
        num_warmup_steps=warmup_steps,
        num_training_steps=total_steps,
        scheduler_specific_kwargs=kwargs or None,
    )
    if not isinstance(template, LambdaLR) or len(template.lr_lambdas) != 1:
        raise InvalidValueError(f"make_schedule needs a step schedule with one factor; {name!r} is not one")
    factor = template.lr_lambdas[0]

    # A plain function (not a callable object) keeps the scheduler's state_dict free of it.
    def one_step_ahead(step: int) -> float:
        return factor(step + 1)

    return LambdaLR(optimizer, one_step_ahead)


# ---------------------------------------------------------------------------------------------- random state


def capture_rng(*generators: Generator) -> dict[str, Any]:
    """The state of torch's, numpy's and Python's global generators and of ``generators``.

    Tensors, ints, floats, strings and lists only, so a checkpoint holding it loads with
    ``torch.load(weights_only=True)``. CUDA's generators are included once CUDA is in use.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> state = capture_rng(rng)
        >>> first = (rng.random(), np.random.rand(), random.random(), torch.rand(1).item())
        >>> restore_rng(state, rng)
        >>> (rng.random(), np.random.rand(), random.random(), torch.rand(1).item()) == first
        True
    """
    kind, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        # numpy arrays and tuples of a numpy dtype do not load under weights_only=True; lists of ints do.
        "numpy": [str(kind), [int(k) for k in keys], int(pos), int(has_gauss), float(cached)],
        "python": _python_state(random.getstate()),
        "generators": [_generator_state(g) for g in generators],
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: Mapping[str, Any], *generators: Generator) -> None:
    """Put every generator back where :func:`capture_rng` found it; ``generators`` as they were passed to it."""
    torch.set_rng_state(state["torch"])
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    saved = state["generators"]
    if len(saved) != len(generators):
        raise InvalidValueError(f"the state holds {len(saved)} generators, but {len(generators)} were given")
    for generator, generator_state in zip(generators, saved):
        _set_generator_state(generator, generator_state)
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _python_state(state: tuple) -> list[Any]:
    version, internal, gauss = state
    return [version, list(internal), gauss]


def _generator_state(generator: Generator) -> dict[str, Any]:
    if isinstance(generator, np.random.Generator):
        return {"numpy": _plain(generator.bit_generator.state)}
    if isinstance(generator, random.Random):
        return {"python": _python_state(generator.getstate())}
    if isinstance(generator, torch.Generator):
        return {"torch": generator.get_state()}
    raise InvalidTypeError(f"cannot capture the state of a {type(generator).__name__}")


def _set_generator_state(generator: Generator, state: Mapping[str, Any]) -> None:
    kind = (
        "numpy"
        if isinstance(generator, np.random.Generator)
        else "python"
        if isinstance(generator, random.Random)
        else "torch"
    )
    if kind not in state:
        raise InvalidValueError(
            f"the saved state of a {next(iter(state), '?')} generator cannot restore a {type(generator).__name__}"
        )
    if isinstance(generator, np.random.Generator):
        generator.bit_generator.state = state["numpy"]  # the setter takes lists where it gave arrays
    elif isinstance(generator, random.Random):
        version, internal, gauss = state["python"]
        generator.setstate((version, tuple(internal), gauss))
    else:
        generator.set_state(state["torch"])


def _plain(value: Any) -> Any:
    """``value`` with numpy arrays and scalars turned into lists and Python numbers."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


# ---------------------------------------------------------------------------------------------- checkpoints


def training_state(
    model: nn.Module, optimizer: torch.optim.Optimizer, scheduler: LambdaLR, *generators: Generator
) -> dict[str, Any]:
    """The model, optimiser, schedule and RNG entries of a checkpoint (:func:`fg_env.checkpoint.save_checkpoint`).

    Example:
        >>> model = nn.Linear(2, 1)
        >>> optimizer = torch.optim.AdamW(parameter_groups(model, 0.01), lr=1e-3)
        >>> sorted(training_state(model, optimizer, make_schedule("constant_with_warmup", optimizer, 1)))
        ['model', 'optimizer', 'rng', 'scheduler']
    """
    return {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "rng": capture_rng(*generators),
    }


def restore_training_state(
    path: str | os.PathLike[str],
    checkpoint: Mapping[str, Any],
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: LambdaLR,
    *generators: Generator,
) -> None:
    """Load what :func:`training_state` saved into ``model``, ``optimizer``, ``scheduler`` and the generators.

    A checkpoint of another model shape raises :class:`~fg_env.checkpoint.CheckpointError` naming ``path``.

    Example:
        >>> model = nn.Linear(2, 1)
        >>> optimizer = torch.optim.AdamW(parameter_groups(model, 0.01), lr=1e-3)
        >>> schedule = make_schedule("constant_with_warmup", optimizer, 1)
        >>> state = training_state(model, optimizer, schedule)
        >>> restore_training_state("c.pt", state, nn.Linear(3, 1), optimizer, schedule)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        fg_env.errors.CheckpointError: checkpoint 'c.pt' does not fit this model: ...
    """
    try:
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        scheduler.load_state_dict(checkpoint["scheduler"])
        restore_rng(checkpoint["rng"], *generators)
    except (RuntimeError, KeyError, ValueError, TypeError) as error:
        raise CheckpointError(f"checkpoint {str(path)!r} does not fit this model: {error}") from None


# ---------------------------------------------------------------------------------------------- metrics log


def read_log(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The rows of a JSON-lines log (none if the file does not exist).

    Example:
        >>> import tempfile, pathlib
        >>> log = pathlib.Path(tempfile.mkdtemp()) / "metrics.jsonl"
        >>> restart_log(log, [{"step": 1}]); append_log(log, {"step": 2})
        >>> [row["step"] for row in read_log(log)]
        [1, 2]
        >>> restart_log(log, [row for row in read_log(log) if row["step"] <= 1])  # resumed from step 1
        >>> read_log(log)
        [{'step': 1}]
    """
    path = Path(path)
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def restart_log(path: str | os.PathLike[str], rows: Iterable[Mapping[str, Any]]) -> None:
    """Replace the log at ``path`` by ``rows``, atomically: on resume, the rows up to the checkpoint."""
    atomic_write_text(path, "".join(json.dumps(row) + "\n" for row in rows))


def append_log(path: str | os.PathLike[str], row: Mapping[str, Any]) -> None:
    """Add one row to the log at ``path`` (as it happens, so a killed run's log shows how far it got)."""
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(row) + "\n")
