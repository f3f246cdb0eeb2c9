"""Data-parallel PPO under Hugging Face accelerate: the processes of a run and the collectives PPO needs.

``accelerate launch --num_processes N -m fg_env.cli train ...`` starts N copies of the trainer; accelerate
sets up the process group (gloo on CPUs, NCCL on GPUs; several machines are accelerate's configuration,
``accelerate config``, not code here) and :func:`current_processes` finds it. Each process collects its
share of an iteration's episodes; then, so that N processes take exactly the step one process would take
on the same global batch:

* means and variances over tokens (the advantage and reward whitening, the PPO losses) are taken over
  the global batch: each process sums, :meth:`Processes.sum` adds the sums up;
* each process's loss is its tokens' share of the global minibatch's mean, so the gradients, summed
  over processes in one flat all-reduce (:meth:`Processes.sum_gradients`), are the global batch's
  gradient; clipping then sees the same global norm everywhere;
* the main process alone writes metrics, checkpoints, the policy and the record of the run.

A plain ``fg-env train`` is one process, and every collective is the identity.

Example:
    >>> processes = current_processes()
    >>> processes.count, processes.index, processes.is_main
    (1, 0, True)
    >>> processes.sum(torch.tensor([1.0, 2.0])).tolist()
    [1.0, 2.0]
"""

from __future__ import annotations

import atexit
import functools
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import torch

from fg_env.errors import InvalidValueError

__all__ = ["Processes", "current_processes", "split_evenly"]

# Set by `accelerate launch` (and torchrun) in every process it starts.
_LAUNCHED = ("WORLD_SIZE", "RANK")


@dataclass(frozen=True)
class Processes:
    """The processes of a data-parallel run: how many, which one this is, and their collectives.

    Example:
        >>> Processes().mean_metrics({"return": 1.5, "trained_tokens": 10, "iteration": 3})
        {'return': 1.5, 'trained_tokens': 10, 'iteration': 3}
    """

    count: int = 1
    index: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        return self.index == 0

    @property
    def distributed(self) -> bool:
        return self.count > 1

    def sum(self, tensor: torch.Tensor) -> torch.Tensor:
        """``tensor`` summed over the processes (a new tensor; the identity for one process)."""
        if not self.distributed:
            return tensor
        total = tensor.detach().clone()
        torch.distributed.all_reduce(total, op=torch.distributed.ReduceOp.SUM)
        return total

    def sum_gradients(self, parameters: Iterable[torch.nn.Parameter]) -> None:
        """Add up every parameter's gradient over the processes, in one flat all-reduce."""
        if not self.distributed:
            return
        grads = [p.grad for p in parameters if p.grad is not None]
        if not grads:
            return
        flat = torch.cat([g.reshape(-1) for g in grads])
        torch.distributed.all_reduce(flat, op=torch.distributed.ReduceOp.SUM)
        offset = 0
        for grad in grads:
            grad.copy_(flat[offset : offset + grad.numel()].view_as(grad))
            offset += grad.numel()

    def mean_metrics(self, metrics: Mapping[str, Any]) -> dict[str, Any]:
        """An iteration's metrics over all processes: counts of tokens summed, other numbers averaged
        (every process runs the same number of episodes), counters and non-numbers as they are."""
        if not self.distributed:
            return dict(metrics)
        keys = [k for k, v in metrics.items() if isinstance(v, (int, float)) and k not in _COUNTERS]
        values = self.sum(torch.tensor([float(metrics[k]) for k in keys], dtype=torch.float64, device=self.device))
        out = dict(metrics)
        for key, value in zip(keys, values.tolist()):
            out[key] = int(value) if key in _SUMMED else value / self.count
        return out

    def gather(self, value: Any) -> list[Any]:
        """Every process's ``value`` (any picklable object), in process order."""
        if not self.distributed:
            return [value]
        values: list[Any] = [None] * self.count
        torch.distributed.all_gather_object(values, value)
        return values

    def wait(self) -> None:
        """Wait until every process reaches this point."""
        if self.distributed:
            torch.distributed.barrier()


_COUNTERS = frozenset({"iteration", "episodes"})  # the same on every process
_SUMMED = frozenset({"trained_tokens", "completion_tokens"})


def current_processes() -> Processes:
    """The processes of this run: those ``accelerate launch`` started, or this one alone."""
    if all(os.environ.get(name) for name in _LAUNCHED) and int(os.environ["WORLD_SIZE"]) > 1:
        from accelerate import PartialState  # sets up the process group once per process

        state = PartialState(cpu=not torch.cuda.is_available())  # gloo on machines without GPUs
        _leave_the_group_at_exit()
        device = torch.device("cpu") if state.device.type == "cpu" else state.device
        return Processes(state.num_processes, state.process_index, device)
    # One process: the GPU when there is one.
    return Processes(device=torch.device("cuda" if torch.cuda.is_available() else "cpu"))


@functools.cache
def _leave_the_group_at_exit() -> None:
    """Destroy the process group when the process exits, before the interpreter tears down its modules.

    Left to the interpreter's teardown, gloo's connection threads can outlive the objects they use. CI once
    saw a rank abort (SIGABRT) after a two-process update that succeeded; this teardown race is the likely
    cause (not reproduced locally in 12 launches), and destroying the group is what torch asks for anyway.
    """
    atexit.register(_destroy_group)


def _destroy_group() -> None:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def split_evenly(total: int, processes: Processes, what: str) -> int:
    """Each process's share of ``total``; a total the processes cannot share evenly is an error.

    Example:
        >>> split_evenly(8, Processes(count=2, index=1), "prompts_per_iteration")
        4
        >>> split_evenly(3, Processes(count=2, index=1), "prompts_per_iteration")
        Traceback (most recent call last):
        ...
        fg_env.errors.InvalidValueError: prompts_per_iteration (3) must be divisible by the number of processes (2): each process collects an equal share of the global batch
    """
    if total % processes.count:
        raise InvalidValueError(
            f"{what} ({total}) must be divisible by the number of processes ({processes.count}): each process "
            "collects an equal share of the global batch"
        )
    return total // processes.count
