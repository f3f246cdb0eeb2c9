"""The dataset contract and the registry that finds datasets by name.

A dataset is a set of named splits, each a sequence of one task's examples (:class:`TaskDataset`):
:class:`~fg_env.types.QAExample` for question answering (:class:`QADataset`),
:class:`~fg_env.data.detox.DetoxPrompt` for detoxification. Splits may be lazy (the built-in world
generates an example when it is first read), so ``len`` and indexing are all the environment relies on.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from fg_env.errors import UnknownChoiceError
from fg_env.types import QAExample

ExampleT = TypeVar("ExampleT")


class TaskDataset(ABC, Generic[ExampleT]):
    """A dataset with named splits, each a sequence of one task's examples.

    Example:
        >>> from fg_env.data import make_dataset
        >>> dataset = make_dataset("detox-synthetic")
        >>> isinstance(dataset, TaskDataset), dataset.splits
        (True, ('train', 'dev', 'test'))
    """

    name: str
    splits: tuple[str, ...]

    def split(self, name: str) -> Sequence[ExampleT]:
        """The examples of split ``name``; an unknown split raises an error listing the valid ones."""
        if name not in self.splits:
            raise UnknownChoiceError(f"split of dataset {self.name!r}", name, self.splits)
        return self._load_split(name)

    @abstractmethod
    def _load_split(self, name: str) -> Sequence[ExampleT]:
        """Return split ``name`` (already checked to be one of ``self.splits``)."""


class QADataset(TaskDataset[QAExample]):
    """A question-answering dataset with named splits.

    Example:
        >>> from fg_env.data import make_dataset
        >>> dataset = make_dataset("synthetic")
        >>> len(dataset.split("dev"))
        500
    """


_DATASETS: dict[str, Callable[..., TaskDataset[Any]]] = {}
_TASKS: dict[str, str] = {}  # dataset name -> the task its examples are for
QA_TASK, DETOX_TASK = "qa", "detox"


def register_dataset(name: str, factory: Callable[..., TaskDataset[Any]], task: str = QA_TASK) -> None:
    """Make ``make_dataset(name, **kwargs)`` call ``factory(**kwargs)``; ``task`` says which environment's
    examples it holds (``"qa"``: FineGrainedQA-v0, ``"detox"``: FineGrainedDetox-v0), so each lists only its own."""
    _DATASETS[name] = factory
    _TASKS[name] = task


def available_datasets(task: str | None = None) -> list[str]:
    """The registered datasets' names, all or only ``task``'s.

    Example:
        >>> "synthetic" in available_datasets("qa") and "synthetic" not in available_datasets("detox")
        True
    """
    return sorted(name for name in _DATASETS if task is None or _TASKS[name] == task)


def make_dataset(name: str | TaskDataset[Any], **kwargs: Any) -> Any:
    """A dataset by name (``"synthetic"``, ``"qa-feedback"``, ``"detox-synthetic"``,
    ``"real-toxicity-prompts"``), or ``name`` itself when it is one.

    Typed ``Any``: which task's dataset a name gives is known at run time only (check it with
    ``isinstance(dataset, QADataset)`` where it matters)."""
    if isinstance(name, TaskDataset):
        return name
    if name not in _DATASETS:
        raise UnknownChoiceError("dataset", name, available_datasets())
    return _DATASETS[name](**kwargs)


def open_dataset(
    name: str | TaskDataset[Any], data_dir: str | None = None, dataset_kwargs: dict[str, Any] | None = None
) -> Any:
    """:func:`make_dataset` from an environment's arguments: ``data_dir``, when given, joins ``dataset_kwargs``.

    Example:
        >>> open_dataset("synthetic", dataset_kwargs={"seed": 1}).name
        'synthetic'
    """
    kwargs = dict(dataset_kwargs or {})
    if data_dir is not None:
        kwargs["data_dir"] = data_dir
    return make_dataset(name, **kwargs)
