"""Training metrics to the dashboards people already use: TensorBoard and Weights & Biases.

``metrics.jsonl`` is always written by the trainers; these reporters are extra, chosen by name
(``--report-to tensorboard,wandb``; ``none``, the default, adds nothing). Only numbers are reported
(lists and strings stay in ``metrics.jsonl``). Neither reporter ever asks for a login: TensorBoard writes
event files under the run folder, and Weights & Biases runs in ``offline`` mode unless ``WANDB_MODE``
says otherwise (``wandb sync`` uploads an offline run later).

Example:
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as out:
    ...     reporters = make_reporters([], out, run_name="demo")
    >>> reporters
    []
    >>> make_reporters(["mlflow"], ".", run_name="demo")
    Traceback (most recent call last):
    ...
    fg_env.errors.UnknownChoiceError: unknown report target 'mlflow'; valid choices: none, tensorboard, wandb
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from fg_env.errors import InvalidValueError, UnknownChoiceError

__all__ = [
    "REPORT_TARGETS",
    "MetricsReporter",
    "TensorBoardReporter",
    "WandbReporter",
    "check_report_targets",
    "make_reporters",
    "numbers",
]

REPORT_TARGETS: tuple[str, ...] = ("none", "tensorboard", "wandb")


class MetricsReporter(Protocol):
    """Somewhere a run's metrics go, one record per step (an iteration, an epoch)."""

    def log(self, metrics: Mapping[str, Any], step: int) -> None: ...

    def close(self) -> None: ...


def numbers(metrics: Mapping[str, Any]) -> dict[str, float]:
    """The finite numeric entries of ``metrics`` (booleans and non-numbers left out).

    Example:
        >>> numbers({"return": 1.5, "iteration": 3, "samples": ["..."], "done": True, "kl": float("nan")})
        {'return': 1.5, 'iteration': 3.0}
    """
    out = {}
    for key, value in metrics.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if math.isfinite(value):
            out[key] = float(value)
    return out


def _missing(package: str, extra: str) -> ImportError:
    return ImportError(f'--report-to {extra} needs the {package} package: pip install "fg-env[{extra}]"')


class TensorBoardReporter:
    """Scalars to TensorBoard event files under ``log_dir`` (``tensorboard --logdir`` shows them).

    Example:
        >>> import tempfile  # doctest: +SKIP
        >>> reporter = TensorBoardReporter(tempfile.mkdtemp())  # doctest: +SKIP
        >>> reporter.log({"return": 1.0}, step=1); reporter.close()  # doctest: +SKIP
    """

    def __init__(self, log_dir: str | os.PathLike[str]) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as error:
            raise _missing("tensorboard", "tensorboard") from error
        self.log_dir = Path(log_dir)
        self._writer = SummaryWriter(log_dir=str(self.log_dir))

    def log(self, metrics: Mapping[str, Any], step: int) -> None:
        for key, value in numbers(metrics).items():
            self._writer.add_scalar(key, value, global_step=step)
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()


class WandbReporter:
    """A Weights & Biases run, offline unless ``WANDB_MODE`` says otherwise (never a login prompt).

    Example:
        >>> import tempfile  # doctest: +SKIP
        >>> reporter = WandbReporter(tempfile.mkdtemp(), run_name="demo", config={"seed": 0})  # doctest: +SKIP
        >>> reporter.log({"return": 1.0}, step=1); reporter.close()  # doctest: +SKIP
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        run_name: str,
        config: Mapping[str, Any] | None = None,
        project: str = "fg_env",
    ) -> None:
        try:
            import wandb
        except ImportError as error:
            raise _missing("wandb", "wandb") from error
        Path(directory).mkdir(parents=True, exist_ok=True)
        self._run = wandb.init(
            project=os.environ.get("WANDB_PROJECT", project),
            name=run_name,
            dir=str(directory),
            config=dict(config or {}),
            mode=os.environ.get("WANDB_MODE", "offline"),  # type: ignore[arg-type]
            reinit="create_new",
        )

    def log(self, metrics: Mapping[str, Any], step: int) -> None:
        self._run.log(numbers(metrics), step=step)

    def close(self) -> None:
        self._run.finish()


def check_report_targets(targets: Sequence[str]) -> None:
    """Refuse unknown targets, ``none`` beside others, and targets whose package is not installed
    (an :class:`ImportError` naming the extra to install), before any training time is spent.

    Example:
        >>> check_report_targets(["none"])
        >>> check_report_targets(["none", "wandb"])
        Traceback (most recent call last):
        ...
        fg_env.errors.InvalidValueError: report target 'none' cannot be combined with others, got ['none', 'wandb']
    """
    import importlib.util

    for target in targets:
        if target not in REPORT_TARGETS:
            raise UnknownChoiceError("report target", target, REPORT_TARGETS)
    if "none" in targets and len(targets) > 1:
        raise InvalidValueError(f"report target 'none' cannot be combined with others, got {list(targets)}")
    for target in targets:
        if target != "none" and importlib.util.find_spec(target) is None:  # each target is its package
            raise _missing(target, target)


def make_reporters(
    targets: Sequence[str],
    out_dir: str | os.PathLike[str],
    *,
    run_name: str,
    config: Mapping[str, Any] | None = None,
) -> list[MetricsReporter]:
    """The reporters named in ``targets`` for a run writing to ``out_dir`` (TensorBoard's events go to
    ``out_dir/tensorboard``, W&B's files to ``out_dir/wandb``). ``none`` (alone) asks for none."""
    check_report_targets(targets)
    out = Path(out_dir)
    reporters: list[MetricsReporter] = []
    if "tensorboard" in targets:
        reporters.append(TensorBoardReporter(out / "tensorboard"))
    if "wandb" in targets:
        reporters.append(WandbReporter(out, run_name=run_name, config=config))
    return reporters
