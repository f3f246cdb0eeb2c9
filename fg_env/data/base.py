"""The dataset contract and the registry that finds datasets by name.

A dataset is a set of named splits, each a sequence of :class:`~fg_env.types.QAExample`. Splits may
be lazy (the built-in world generates an example when it is first read), so ``len`` and indexing are
all the environment relies on.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

from fg_env.errors import UnknownChoiceError
from fg_env.types import QAExample


class QADataset(ABC):
    """A question-answering dataset with named splits.

    Example:
        >>> from fg_env.data import make_dataset
        >>> dataset = make_dataset("synthetic")
        >>> len(dataset.split("dev"))
        500
    """

    name: str
    splits: tuple[str, ...]

    def split(self, name: str) -> Sequence[QAExample]:
        """The examples of split ``name``; an unknown split raises an error listing the valid ones."""
        if name not in self.splits:
            raise UnknownChoiceError(f"split of dataset {self.name!r}", name, self.splits)
        return self._load_split(name)

    @abstractmethod
    def _load_split(self, name: str) -> Sequence[QAExample]:
        """Return split ``name`` (already checked to be one of ``self.splits``)."""


_DATASETS: dict[str, Callable[..., QADataset]] = {}


def register_dataset(name: str, factory: Callable[..., QADataset]) -> None:
    """Make ``make_dataset(name, **kwargs)`` call ``factory(**kwargs)``."""
    _DATASETS[name] = factory


def available_datasets() -> list[str]:
    return sorted(_DATASETS)


def make_dataset(name: str | QADataset, **kwargs: Any) -> QADataset:
    """A dataset by name (``"synthetic"``, ``"qa-feedback"``), or ``name`` itself when it is one."""
    if isinstance(name, QADataset):
        return name
    if name not in _DATASETS:
        raise UnknownChoiceError("dataset", name, available_datasets())
    return _DATASETS[name](**kwargs)
