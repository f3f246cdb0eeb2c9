"""Fair controls (stub, filled in by the next commit)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fg_env.data.synthetic.integrity.cases import FAIR_FAMILIES, IntegrityCase
from fg_env.types import QAExample

SPLIT_SEED = 20


@dataclass(frozen=True)
class FairPhrasing:
    """A fair rewording (stub)."""

    family: str
    template: str


FAIR_PHRASINGS: tuple[FairPhrasing, ...] = ()


def split_halves(phrasings: Sequence[FairPhrasing]) -> dict[FairPhrasing, str]:
    """The half of each phrasing (stub)."""
    return {}


def generate_fair_cases(
    examples: Iterable[QAExample], seed: int = 0, families: Sequence[str] = FAIR_FAMILIES
) -> list[IntegrityCase]:
    """The fair cases (stub)."""
    return []
