"""What each learned reward model judges: its kind of head, its granularity, its labels, its input.

Pure data, no torch, so the CLI can list components without loading a model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fg_env.errors import UnknownChoiceError
from fg_env.feedback.schema import FACTUALITY_ERRORS, RELEVANCE_ERRORS
from fg_env.text import segments_at
from fg_env.types import Granularity, Span

NO_ERROR = "no-error"


@dataclass(frozen=True)
class ComponentSpec:
    """One learned component.

    ``kind`` is ``"token"`` (a classifier read at the last token of each segment, labels
    ``labels``) or ``"pairwise"`` (a scalar read at the answer's last token, trained with a
    Bradley-Terry loss on ranked pairs). ``uses_passages`` says whether the input holds the passages
    (the paper's relevance model sees only the question and the answer).

    Example:
        >>> COMPONENTS["factuality"].labels
        ('no-error', 'Wrong-Grounding', 'Unverifiable')
    """

    name: str
    kind: Literal["token", "pairwise"]
    granularity: Granularity
    labels: tuple[str, ...]
    uses_passages: bool

    def segments(self, answer: str) -> list[Span]:
        """The segments of ``answer`` this component judges (the whole answer for episode level)."""
        return segments_at(answer, self.granularity)


COMPONENTS: dict[str, ComponentSpec] = {
    "relevance": ComponentSpec("relevance", "token", Granularity.SUB_SENTENCE, (NO_ERROR, *RELEVANCE_ERRORS), False),
    "factuality": ComponentSpec("factuality", "token", Granularity.SENTENCE, (NO_ERROR, *FACTUALITY_ERRORS), True),
    "completeness": ComponentSpec("completeness", "pairwise", Granularity.EPISODE, (), True),
    "preference": ComponentSpec("preference", "pairwise", Granularity.EPISODE, (), True),
}


def component(name: str) -> ComponentSpec:
    """The spec of component ``name``; an unknown name raises an error that lists the valid ones."""
    if name not in COMPONENTS:
        raise UnknownChoiceError("reward-model component", name, list(COMPONENTS))
    return COMPONENTS[name]
