"""``SyntheticQA``: the built-in world's fixed splits, generated lazily from a seed.

Example ``i`` of split ``s`` is generated from its own random stream, seeded by ``(seed, s, i)``, the
first time it is read, then cached; building the dataset generates nothing, so ``gym.make`` stays
fast. Every question of every split has its own ambiguous name (a seeded permutation of all title
pairs is dealt out to the splits in turn), so splits never share a question.

Example:
    >>> ds = SyntheticQA(seed=0)
    >>> dev = ds.split("dev")
    >>> len(dev), dev[42].id
    (500, 'synthetic-dev-00042')
    >>> ds.split("train_sft")[7] is ds.split("train")[7]
    True
"""

from __future__ import annotations

import operator
import random
from collections.abc import Iterator, Sequence
from typing import overload

from fg_env.data.base import QADataset
from fg_env.data.synthetic.vocab import TITLE_FIRST_WORDS, TITLE_SECOND_WORDS
from fg_env.data.synthetic.world import generate_example
from fg_env.errors import InvalidTypeError, InvalidValueError
from fg_env.types import QAExample

SPLIT_SIZES: dict[str, int] = {"train": 2000, "dev": 500, "test": 500}
SFT_SIZE = 1000  # train_sft is the first 1,000 questions of train (the paper's train_1k)
SPLITS: tuple[str, ...] = ("train", "train_sft", "dev", "test")


class _Names:
    """A seeded permutation of every title pair, computed once on first use (about 5 ms)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._names: list[str] | None = None

    def __getitem__(self, index: int) -> str:
        if self._names is None:
            names = [f"{a} {b}" for a in TITLE_FIRST_WORDS for b in TITLE_SECOND_WORDS]
            random.Random(f"fg_env-synthetic-names-{self.seed}").shuffle(names)
            self._names = names
        return self._names[index]


class SyntheticSplit(Sequence[QAExample]):
    """A lazy, cached, read-only sequence of one split's questions.

    Example:
        >>> split = SyntheticQA().split("dev")
        >>> split, split[-1].id
        (SyntheticSplit(seed=0, split='dev', size=500), 'synthetic-dev-00499')
    """

    def __init__(self, dataset_seed: int, split: str, size: int, offset: int, names: _Names) -> None:
        self.seed, self.name, self._size, self._offset, self._names = dataset_seed, split, size, offset, names
        self._cache: dict[int, QAExample] = {}

    def __len__(self) -> int:
        return self._size

    @overload
    def __getitem__(self, index: int) -> QAExample: ...

    @overload
    def __getitem__(self, index: slice) -> list[QAExample]: ...

    def __getitem__(self, index: int | slice) -> QAExample | list[QAExample]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._size))]
        try:
            index = operator.index(index)  # ints, and NumPy integers from a Generator
        except TypeError:
            raise InvalidTypeError(f"split indices must be integers or slices, not {type(index).__name__}") from None
        if index < 0:
            index += self._size
        if not 0 <= index < self._size:
            raise IndexError(f"index {index} out of range for split {self.name!r} of {self._size} questions")
        example = self._cache.get(index)
        if example is None:
            example = self._cache[index] = self._generate(index)
        return example

    def __iter__(self) -> Iterator[QAExample]:
        return (self[i] for i in range(self._size))

    def _generate(self, index: int) -> QAExample:
        # A string seed is hashed with SHA-512 by random.Random: stable across runs and platforms.
        rng = random.Random(f"fg_env-synthetic/{self.seed}/{self.name}/{index}")
        prefix = "synthetic" if self.seed == 0 else f"synthetic-s{self.seed}"
        return generate_example(
            rng,
            self._names[self._offset + index],
            example_id=f"{prefix}-{self.name}-{index:05d}",
            key=f"synthetic:{self.seed}:{self.name}:{index}",
        )

    def __repr__(self) -> str:
        return f"SyntheticSplit(seed={self.seed}, split={self.name!r}, size={self._size})"


class SyntheticQA(QADataset):
    """The built-in grounded QA world: ambiguous questions, passages, gold answers, exact ground truth.

    Splits: ``train`` (2,000), ``train_sft`` (its first 1,000, the paper's train_1k), ``dev`` (500) and
    ``test`` (500). ``meta["world"]`` of each example holds its ground truth
    (:class:`~fg_env.data.synthetic.facts.World`), which the annotator reads.

    Example:
        >>> ex = SyntheticQA().split("test")[0]
        >>> ex.id, 2 <= len(ex.meta["world"].interpretations) <= 4
        ('synthetic-test-00000', True)
    """

    name = "synthetic"
    splits = SPLITS

    def __init__(self, seed: int = 0) -> None:
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise InvalidValueError(f"seed must be a non-negative integer, got {seed!r}")
        self.seed = seed
        names = _Names(seed)
        offsets = {"train": 0, "dev": SPLIT_SIZES["train"], "test": SPLIT_SIZES["train"] + SPLIT_SIZES["dev"]}
        self._splits = {
            split: SyntheticSplit(seed, split, size, offsets[split], names) for split, size in SPLIT_SIZES.items()
        }

    def _load_split(self, name: str) -> Sequence[QAExample]:
        if name == "train_sft":
            return _Prefix(self._splits["train"], SFT_SIZE)
        return self._splits[name]

    def __repr__(self) -> str:
        return f"SyntheticQA(seed={self.seed})"


class _Prefix(Sequence[QAExample]):
    """The first ``size`` questions of a split, sharing its cache (train_sft is train[:1000])."""

    def __init__(self, split: SyntheticSplit, size: int) -> None:
        self._split, self._size = split, size
        self.name = "train_sft"

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, index: int | slice):
        if isinstance(index, slice):
            return [self._split[i] for i in range(*index.indices(self._size))]
        index = operator.index(index)
        if index < 0:
            index += self._size
        if not 0 <= index < self._size:
            raise IndexError(f"index {index} out of range for split 'train_sft' of {self._size} questions")
        return self._split[index]

    def __iter__(self) -> Iterator[QAExample]:
        return (self._split[i] for i in range(self._size))
