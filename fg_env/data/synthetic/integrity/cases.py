"""The suite's case types and classes: what a probe is, which verdicts a careful annotator gives it.

A case (:class:`IntegrityCase`) is a *context* (whole gold sentences, possibly empty), a *probe* (one
sentence, or a few for a fair rewording that splits one), and for fair cases the rest of the gold
answer *after* it; :class:`Expect` holds the verdicts the probe must get. The classes come in groups
(:data:`GROUPS`): adversarial probes and their controls, and the fair controls (:data:`FAIR_CLASSES`),
correct rewordings of a gold sentence that must keep the gold sentence's credit.

Example:
    >>> CLASSES[:2], FAIR_CLASSES[0]
    (('gold', 'framing'), 'fair-voice')
"""

from __future__ import annotations

from dataclasses import dataclass

from fg_env.errors import InvalidValueError
from fg_env.feedback.schema import FACTUALITY_ERRORS, RELEVANCE_ERRORS
from fg_env.types import QAExample

ANY = "any"  # an expected verdict that is not checked

GROUPS: dict[str, tuple[str, ...]] = {
    "control": ("gold", "framing", "hedged-true", "number-words-true"),
    "existing": (
        "wrong-value",
        "other-interpretation",
        "unverifiable",
        "distractor",
        "repeat",
        "cut-off",
        "shuffled",
        "missing-answer",
    ),
    "new": (
        "unknown-person",
        "mixed-name",
        "unknown-title",
        "unknown-company",
        "unknown-place",
        "negated-true",
        "denied-true",
        "vacuous",
        "question-restated",
        "number-words-false",
        "foreign-language",
        "foreign-script",
    ),
}
# The adversarial suite and its controls: what `--strict` gates and `generate_cases` makes by default.
CLASSES: tuple[str, ...] = tuple(cls for classes in GROUPS.values() for cls in classes)

# The fair controls, one class per family of correct rewordings (see the ``fair`` module). They are
# measured, not gated: the annotator is known to fail many of them, and their pass rates are the
# baseline a fairer annotator is judged against.
FAIR_GROUP = "fair"
FAIR_FAMILIES: tuple[str, ...] = (
    "voice",
    "order",
    "apposition",
    "possessive",
    "coordination",
    "reference",
    "synonym",
    "date",
    "discourse",
)
FAIR_CLASSES: tuple[str, ...] = tuple(f"fair-{family}" for family in FAIR_FAMILIES)
DEV, HELD_OUT = "dev", "held-out"  # the two halves of each fair family's phrasings
FRESH = "fresh"  # a third half: phrasings written after the split, measured once (phrasings.FRESH_PHRASINGS)

WG, UNVERIFIABLE = "Wrong-Grounding", "Unverifiable"
IRRELEVANT, REDUNDANT, INCOHERENT = "Irrelevant", "Redundant", "Incoherent"
MISSING_ANSWER = "Missing-Answer"


@dataclass(frozen=True)
class Expect:
    """The verdicts a careful annotator gives a probe (see the package docstring); :data:`ANY`: not checked.

    ``completeness``, when set, is the completeness the whole answer must have (a fair rewording keeps
    the gold answer's, computed from the world's required facts the answer states).

    Example:
        >>> Expect(factuality="Wrong-Grounding", completeness_gain=False).describe()
        'factuality=Wrong-Grounding relevance=None gain=False'
        >>> Expect(completeness=1.0).describe()
        'factuality=None relevance=None gain=any completeness=1'
    """

    factuality: str | None = None
    relevance: str | None = None
    completeness_gain: bool | None = None
    missing: str | None = None
    completeness: float | None = None

    def __post_init__(self) -> None:
        if self.factuality not in (None, ANY, *FACTUALITY_ERRORS):
            raise InvalidValueError(f"unknown factuality verdict {self.factuality!r}")
        if self.relevance not in (None, ANY, *RELEVANCE_ERRORS):
            raise InvalidValueError(f"unknown relevance verdict {self.relevance!r}")
        if self.completeness is not None and not 0.0 <= self.completeness <= 1.0:
            raise InvalidValueError(f"completeness must be in [0, 1], got {self.completeness}")

    def describe(self) -> str:
        gain = "any" if self.completeness_gain is None else str(self.completeness_gain)
        text = f"factuality={self.factuality} relevance={self.relevance} gain={gain}"
        text += f" missing={self.missing}" if self.missing else ""
        return text + (f" completeness={self.completeness:.3g}" if self.completeness is not None else "")


@dataclass(frozen=True)
class IntegrityCase:
    """One probe: ``sentence`` after ``context`` (whole gold sentences), and its expected verdicts.

    ``inserted`` holds the values the probe puts in place of the truth (a wrong year, a made-up
    name) and ``about`` the (entity id, attribute) of the fact it concerns, so tests can check the
    label against the world; ``note`` says how the probe was made.
    An empty ``sentence`` (``missing-answer``) makes the whole context the probe.
    A fair case also has ``after`` (the gold sentences that follow the one it rewords), ``half``
    (:data:`DEV` or :data:`HELD_OUT`: the half of its family's phrasings its phrasing is in) and
    ``states`` (every (entity id, attribute) the probe states, read from the world's facts).

    Example:
        >>> from fg_env.data.synthetic import SyntheticQA
        >>> example = SyntheticQA().split("test")[0]
        >>> case = IntegrityCase("vacuous", example, "", "Shattered Echo is an interesting topic.",
        ...                      Expect(relevance="Irrelevant", completeness_gain=False))
        >>> case.answer, case.probe_span
        ('Shattered Echo is an interesting topic.', (0, 39))
        >>> fair = IntegrityCase("fair-discourse", example, "A.", "Notably, B.", Expect(), after="C.")
        >>> fair.answer, fair.probe_span
        ('A. Notably, B. C.', (3, 14))
    """

    cls: str
    example: QAExample
    context: str
    sentence: str
    expect: Expect
    inserted: tuple[str, ...] = ()
    note: str = ""
    about: tuple[str, str] | None = None
    after: str = ""
    half: str = ""
    states: frozenset[tuple[str, str]] = frozenset()

    @property
    def answer(self) -> str:
        """The text annotated: the context, then the probe sentence, then the rest (fair cases)."""
        return " ".join(part for part in (self.context, self.sentence, self.after) if part)

    @property
    def probe_span(self) -> tuple[int, int]:
        """Where the probe lies in :attr:`answer` (the whole answer when there is no probe sentence)."""
        if not self.sentence:
            return 0, len(self.answer)
        start = len(self.context) + 1 if self.context else 0
        return start, start + len(self.sentence)
