"""The scored segment: the one record of "this span of the answer got this reward".

The environment reports each step's scored segments in ``info["segments"]`` as plain dicts (the
:class:`SegmentInfo` ``TypedDict``), so they pickle, print and serialise as JSON; the reward-shaping
wrappers rewrite them, and an LM agent places each one's reward on the token that ends its span.
:class:`ScoredSegment` is the same record as a frozen dataclass, for code that builds or reads them.

Example:
    >>> s = ScoredSegment("factuality", "sentence", 0, 8, "Ann won.", -1.0, "Wrong-Grounding")
    >>> s.to_info()["label"]
    'Wrong-Grounding'
    >>> ScoredSegment.from_info(s.to_info()) == s
    True
    >>> s.weighted_value(0.5)
    -0.5
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

from typing_extensions import NotRequired

__all__ = ["ScoredSegment", "SegmentInfo"]


class SegmentInfo(TypedDict):
    """One entry of ``info["segments"]``.

    ``start``/``end`` are character offsets in the response (``text == response[start:end]``);
    ``label`` is the error type, or None when the segment has none; ``weight`` is present once a
    scalarising wrapper has weighted the segment (its share of the scalar reward is
    ``weight * value``).
    """

    component: str
    granularity: str
    start: int
    end: int
    text: str
    value: float
    label: str | None
    weight: NotRequired[float]


@dataclass(frozen=True)
class ScoredSegment:
    """One scored segment of a step, as reported in ``info["segments"]``."""

    component: str
    granularity: str
    start: int
    end: int
    text: str
    value: float
    label: str | None
    weight: float | None = None

    def to_info(self) -> SegmentInfo:
        info = SegmentInfo(
            component=self.component,
            granularity=self.granularity,
            start=self.start,
            end=self.end,
            text=self.text,
            value=self.value,
            label=self.label,
        )
        if self.weight is not None:
            info["weight"] = self.weight
        return info

    @classmethod
    def from_info(cls, info: Mapping[str, Any]) -> ScoredSegment:
        weight = info.get("weight")
        return cls(
            component=str(info["component"]),
            granularity=str(info["granularity"]),
            start=int(info["start"]),
            end=int(info["end"]),
            text=str(info["text"]),
            value=float(info["value"]),
            label=info.get("label"),
            weight=None if weight is None else float(weight),
        )

    def replace(self, **changes: Any) -> ScoredSegment:
        return dataclasses.replace(self, **changes)

    def weighted_value(self, default_weight: float = 1.0) -> float:
        """``weight * value``, with ``default_weight`` for a segment no wrapper has weighted."""
        return (default_weight if self.weight is None else self.weight) * self.value
