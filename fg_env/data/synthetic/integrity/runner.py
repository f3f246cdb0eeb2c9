"""Running the suite and reporting it: each case's verdicts read from the annotator and compared with
what it expects, pass rates per class (and, for the fair controls, per family and half), and the
``fg-env integrity`` command.

Example:
    >>> print(format_table(SuiteResult({"gold": (10, 10)})))
    | class | group | cases | passed | pass rate |
    |---|---|---:|---:|---:|
    | gold | control | 10 | 10 | 100.0% |
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from fg_env.data.synthetic.annotator import Annotator
from fg_env.data.synthetic.integrity.cases import (
    ANY,
    CLASSES,
    DEV,
    FAIR_CLASSES,
    FAIR_GROUP,
    FRESH,
    GROUPS,
    HELD_OUT,
    IntegrityCase,
)
from fg_env.data.synthetic.integrity.fair import generate_fair_cases, generate_fresh_cases
from fg_env.data.synthetic.integrity.probes import generate_cases
from fg_env.errors import InvalidValueError
from fg_env.feedback.schema import FACTUALITY_ERRORS, RELEVANCE_ERRORS, Feedback
from fg_env.text import split_sentences, split_sub_sentences

_K = TypeVar("_K", bound=Hashable)
PASS_THRESHOLD = 0.99  # `--strict` fails when any adversarial or control class passes less often than this


@dataclass(frozen=True)
class _Observed:
    factuality: tuple[str, ...]  # factuality errors on the probe's sentence(s)
    relevance: tuple[str | None, ...]  # each probe sub-sentence's relevance error(s), "+"-joined
    before: float  # completeness of the context alone
    after: float  # completeness of the whole answer
    missing: tuple[str, ...]
    context_changes: str  # how the context's own errors changed (empty: they did not)

    def describe(self) -> str:
        factuality = ",".join(self.factuality) or "None"
        relevance = ",".join(str(r) for r in self.relevance)
        text = f"factuality={factuality} relevance=[{relevance}] completeness {self.before:.3g} -> {self.after:.3g}"
        if self.missing:
            text += f" missing={','.join(sorted(set(self.missing)))}"
        return text + (f" context errors changed: {self.context_changes}" if self.context_changes else "")


def _observe(annotator: Annotator, case: IntegrityCase) -> _Observed:
    example, answer = case.example, case.answer
    feedback: Feedback = annotator.annotate(example, answer)
    start, end = case.probe_span
    # The probe's own sentences only: a fair case has the rest of the gold answer after it.
    factuality = tuple(
        sorted({e.error_type for e in feedback.errors if e.error_type in FACTUALITY_ERRORS and start <= e.start < end})
    )
    relevance = []
    for sentence in split_sentences(answer):
        if sentence.end <= start:
            continue
        if sentence.start >= end:
            break
        for sub in split_sub_sentences(answer, sentence):
            labels = sorted(
                e.error_type
                for e in feedback.errors
                if e.error_type in RELEVANCE_ERRORS and e.start < sub.end and sub.start < e.end
            )
            relevance.append("+".join(labels) if labels else None)
    changes = ""
    if case.context and case.sentence:
        alone = {(e.error_type, e.start, e.end) for e in annotator.annotate(example, case.context).errors}
        within = {(e.error_type, e.start, e.end) for e in feedback.errors if e.start < len(case.context)}
        if alone != within:
            changes = f"alone {sorted(alone - within)}, with the probe {sorted(within - alone)}"
    before = annotator.completeness(example, case.context) if case.context and case.sentence else 0.0
    return _Observed(
        factuality=factuality,
        relevance=tuple(relevance),
        before=before,
        after=annotator.completeness(example, answer),
        missing=tuple(m.error_type for m in feedback.missing_info),
        context_changes=changes,
    )


def _problems(case: IntegrityCase, seen: _Observed) -> list[str]:
    expect, problems = case.expect, []
    if seen.context_changes:
        problems.append("the context's errors changed with the probe after it (prefix property)")
    if expect.factuality != ANY:
        wanted = (expect.factuality,) if expect.factuality else ()
        if seen.factuality != wanted:
            problems.append(f"factuality: expected {expect.factuality}, got {','.join(seen.factuality) or None}")
    if expect.relevance != ANY:
        wrong = [r for r in seen.relevance if r != expect.relevance]
        if wrong or not seen.relevance:
            problems.append(f"relevance: expected {expect.relevance} on every sub-sentence, got {list(seen.relevance)}")
    if expect.completeness_gain is not None:
        gained = seen.after > seen.before + 1e-9
        if gained != expect.completeness_gain:
            problems.append(
                f"completeness: expected {'a gain' if expect.completeness_gain else 'no gain'}, "
                f"got {seen.before:.3g} -> {seen.after:.3g}"
            )
    if expect.missing is not None and (expect.missing not in seen.missing or seen.after >= 1.0):
        problems.append(
            f"missing info: expected {expect.missing} and completeness < 1, got {sorted(set(seen.missing))}"
        )
    if expect.completeness is not None and abs(seen.after - expect.completeness) > 1e-9:
        problems.append(f"completeness: expected {expect.completeness:.3g}, got {seen.after:.3g}")
    return problems


def check_case(annotator: Annotator, case: IntegrityCase) -> tuple[bool, str]:
    """Whether ``annotator`` gives the case its expected verdicts; the reason is "ok" or what differs.

    Example:
        >>> from fg_env.data.synthetic import SyntheticQA
        >>> from fg_env.data.synthetic.integrity import Expect
        >>> example = SyntheticQA().split("test")[0]
        >>> wrong = IntegrityCase("demo", example, "", "Shattered Echo may refer to several works.",
        ...                       Expect(relevance="Irrelevant"))
        >>> check_case(Annotator(), wrong)
        (False, 'relevance: expected Irrelevant on every sub-sentence, got [None]')
    """
    problems = _problems(case, _observe(annotator, case))
    return (not problems, "; ".join(problems) or "ok")


@dataclass(frozen=True)
class Failure:
    """A case the annotator got wrong, for debugging: its class, text, expected and observed verdicts.

    Example:
        >>> Failure("vacuous", "X is an interesting topic.", "relevance=Irrelevant", "relevance=[None]", "...").cls
        'vacuous'
    """

    cls: str
    text: str  # the answer, the probe in [[ ]]
    expected: str
    got: str
    reason: str
    half: str = ""  # a fair case's half of its family's phrasings

    @property
    def key(self) -> tuple[str, str]:
        """(class, half): what a fair failure is counted under."""
        return self.cls, self.half


class SuiteResult(dict[str, tuple[int, int]]):
    """``{class: (passed, total)}`` in :data:`CLASSES` order, with ``failures``: some failing cases per class.

    Example:
        >>> result = SuiteResult({"gold": (9, 10)})
        >>> result.rate("gold"), result.failures
        (0.9, [])
    """

    def __init__(self, counts: Mapping[str, tuple[int, int]] | None = None, failures: Sequence[Failure] = ()) -> None:
        super().__init__(counts or {})
        self.failures: list[Failure] = list(failures)

    def rate(self, cls: str) -> float:
        passed, total = self[cls]
        return passed / total if total else 1.0


def run_suite(annotator: Annotator, cases: Iterable[IntegrityCase], max_failures: int = 5) -> SuiteResult:
    """Check every case; per class, how many passed of how many, and up to ``max_failures`` failures.

    Example:
        >>> from fg_env.data.synthetic import SyntheticQA
        >>> cases = generate_cases(SyntheticQA().split("test")[:1], classes=["framing"])
        >>> result = run_suite(Annotator(), cases)
        >>> list(result), result.rate("framing")
        (['framing'], 1.0)
    """
    counts, failures = _tally(annotator, cases, lambda case: case.cls, max_failures)
    order = {cls: n for n, cls in enumerate(CLASSES)}
    ordered = sorted(counts.items(), key=lambda item: order.get(item[0], len(order)))
    return SuiteResult(
        {cls: (c[0], c[1]) for cls, c in ordered}, [f for cls, _ in ordered for f in failures.get(cls, [])]
    )


def _tally(
    annotator: Annotator, cases: Iterable[IntegrityCase], key: Callable[[IntegrityCase], _K], max_failures: int
) -> tuple[dict[_K, list[int]], dict[_K, list[Failure]]]:
    """Per key: [passed, total], and up to ``max_failures`` failures."""
    counts: dict[_K, list[int]] = {}
    failures: dict[_K, list[Failure]] = {}
    for case in cases:
        seen = _observe(annotator, case)
        problems = _problems(case, seen)
        count = counts.setdefault(key(case), [0, 0])
        count[1] += 1
        if not problems:
            count[0] += 1
            continue
        kept = failures.setdefault(key(case), [])
        if len(kept) < max_failures:
            reason = "; ".join(problems)
            kept.append(Failure(case.cls, _marked(case), case.expect.describe(), seen.describe(), reason, case.half))
    return counts, failures


def _marked(case: IntegrityCase) -> str:
    """The answer with the probe in [[ ]]."""
    if not (case.context or case.after) or not case.sentence:
        return f"[[{case.answer}]]"
    return " ".join(part for part in (case.context, f"[[{case.sentence}]]", case.after) if part)


def format_table(result: SuiteResult) -> str:
    """A markdown table: class, cases, passed, pass rate (and the group of each class).

    Example:
        >>> print(format_table(SuiteResult({"gold": (10, 10), "vacuous": (1, 4)})))
        | class | group | cases | passed | pass rate |
        |---|---|---:|---:|---:|
        | gold | control | 10 | 10 | 100.0% |
        | vacuous | new | 4 | 1 | 25.0% |
    """
    group_of = {cls: group for group, classes in GROUPS.items() for cls in classes}
    lines = ["| class | group | cases | passed | pass rate |", "|---|---|---:|---:|---:|"]
    for cls, (passed, total) in result.items():
        lines.append(f"| {cls} | {group_of.get(cls, '')} | {total} | {passed} | {100 * result.rate(cls):.1f}% |")
    return "\n".join(lines)


def format_failures(result: SuiteResult, per_class: int = 5, width: int = 300) -> str:
    """Up to ``per_class`` failing cases of each class, for reading; long contexts are cut from the left."""
    lines: list[str] = []
    shown: dict[str, int] = {}
    for failure in result.failures:
        if shown.get(failure.cls, 0) >= per_class:
            continue
        if failure.cls not in shown:
            passed, total = result[failure.cls]
            lines.append(f"\n### {failure.cls} ({total - passed} of {total} failing)")
        shown[failure.cls] = shown.get(failure.cls, 0) + 1
        text = failure.text if len(failure.text) <= width else "..." + failure.text[-width:]
        lines += [f"- text:     {text}", f"  expected: {failure.expected}", f"  got:      {failure.got}"]
    return "\n".join(lines).lstrip("\n")


class FairResult(dict[tuple[str, str], tuple[int, int]]):
    """``{(fair class, half): (passed, total)}`` in :data:`FAIR_CLASSES` then dev, held-out order, with
    ``failures``: some failing cases per class and half.

    Example:
        >>> result = FairResult({("fair-voice", "dev"): (3, 4)})
        >>> result.rate("fair-voice", "dev"), result.rate("fair-voice", "held-out")
        (0.75, None)
    """

    def __init__(
        self, counts: Mapping[tuple[str, str], tuple[int, int]] | None = None, failures: Sequence[Failure] = ()
    ) -> None:
        super().__init__(counts or {})
        self.failures: list[Failure] = list(failures)

    def rate(self, cls: str, half: str) -> float | None:
        """The pass rate of one class on one half, None when it has no case there."""
        passed, total = self.get((cls, half), (0, 0))
        return passed / total if total else None


def run_fair_suite(annotator: Annotator, cases: Iterable[IntegrityCase], max_failures: int = 5) -> FairResult:
    """Check every fair case; per class and half, how many passed of how many, and some failures.

    Example:
        >>> from fg_env.data.synthetic import SyntheticQA
        >>> from fg_env.data.synthetic.integrity import Expect
        >>> example = SyntheticQA().split("test")[0]
        >>> whole = IntegrityCase("fair-discourse", example, "", example.references[0], Expect(completeness=1.0),
        ...                       half="dev")
        >>> run_fair_suite(Annotator(), [whole])
        {('fair-discourse', 'dev'): (1, 1)}
    """
    counts, failures = _tally(annotator, cases, lambda case: (case.cls, case.half), max_failures)
    halves = (DEV, HELD_OUT, FRESH)
    order = {(cls, half): n for n, (cls, half) in enumerate((c, h) for c in FAIR_CLASSES for h in halves)}
    ordered = sorted(counts.items(), key=lambda item: order.get(item[0], len(order)))
    return FairResult(
        {key: (c[0], c[1]) for key, c in ordered}, [f for key, _ in ordered for f in failures.get(key, [])]
    )


def format_fair_table(result: FairResult, fresh: bool = False) -> str:
    """A markdown table of the fair group: per class, each half's cases, passes and pass rate (with
    ``fresh``, the fresh half's too, after the held-out half).

    Example:
        >>> print(format_fair_table(FairResult({("fair-date", "dev"): (1, 4), ("fair-date", "held-out"): (2, 4)})))
        | class | group | dev cases | dev passed | dev pass rate | held-out cases | held-out passed | held-out pass rate |
        |---|---|---:|---:|---:|---:|---:|---:|
        | fair-date | fair | 4 | 1 | 25.0% | 4 | 2 | 50.0% |
        >>> print(format_fair_table(FairResult({("fair-date", "fresh"): (3, 4)}), fresh=True).splitlines()[2])
        | fair-date | fair | 0 | 0 | - | 0 | 0 | - | 4 | 3 | 75.0% |
    """
    halves = (DEV, HELD_OUT, FRESH) if fresh else (DEV, HELD_OUT)
    header = " | ".join(f"{half} cases | {half} passed | {half} pass rate" for half in halves)
    lines = [f"| class | group | {header} |", "|---|---|" + "---:|" * (3 * len(halves))]
    for cls in dict.fromkeys(cls for cls, _ in result):
        cells = []
        for half in halves:
            passed, total = result.get((cls, half), (0, 0))
            rate = result.rate(cls, half)
            cells += [str(total), str(passed), "-" if rate is None else f"{100 * rate:.1f}%"]
        lines.append(f"| {cls} | {FAIR_GROUP} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def format_fair_failures(result: FairResult, per_class: int = 5, width: int = 300) -> str:
    """Up to ``per_class`` failing cases of each fair class and half, for reading."""
    lines: list[str] = []
    shown: dict[tuple[str, str], int] = {}
    for failure in result.failures:
        key = failure.key
        if shown.get(key, 0) >= per_class:
            continue
        if key not in shown:
            passed, total = result[key]
            lines.append(f"\n### {key[0]}, {key[1]} half ({total - passed} of {total} failing)")
        shown[key] = shown.get(key, 0) + 1
        lines += [f"- text:     {_around_probe(failure.text, width)}", f"  expected: {failure.expected}"]
        lines.append(f"  got:      {failure.got}")
    return "\n".join(lines).lstrip("\n")


def _around_probe(text: str, width: int) -> str:
    """The probe in [[ ]] with what surrounds it, cut on both sides to about ``width`` characters (a fair
    probe sits inside its answer, so cutting only from the left could lose it)."""
    if len(text) <= width:
        return text
    start, end = text.find("[["), text.find("]]") + 2
    room = max(0, width - (end - start)) // 2
    left, right = max(0, start - room), min(len(text), end + room)
    return ("..." if left else "") + text[left:right] + ("..." if right < len(text) else "")


# -- the command ------------------------------------------------------------------------------------------
def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {value}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``fg-env integrity``."""
    from fg_env.command import positive_int
    from fg_env.data.synthetic.dataset import SPLITS

    parser.add_argument("--split", default="test", choices=SPLITS, help="the built-in world's split to probe")
    parser.add_argument(
        "--questions", type=positive_int, default=200, metavar="N", help="probe the first N questions of the split"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the probes' random choices")
    parser.add_argument(
        "--show-failures", type=_count, default=0, metavar="N", help="print up to N failing cases of each class"
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help=f"exit with status 1 when any adversarial or control class passes less than "
        f"{100 * PASS_THRESHOLD:g}%% of its cases (the fair group is measured, not gated)",
    )
    parser.add_argument(
        "--no-fair", action="store_true", help="leave out the fair group (correct rewordings of gold sentences)"
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="also measure the fair group's fresh half (phrasings written after the dev/held-out split), "
        "as a third column group of the fair table",
    )


def run_command(args: argparse.Namespace) -> int:
    """Run ``fg-env integrity``: print the per-class table (and failures), then the fair group's table per
    family and half (and its failures); 1 under ``--strict`` when an adversarial or control class passes
    below the threshold, else 0."""
    from fg_env.data.synthetic.dataset import SyntheticQA

    split = SyntheticQA().split(args.split)
    if args.questions > len(split):
        raise InvalidValueError(
            f"--questions must be at most {len(split)} for split {args.split!r}, got {args.questions}"
        )
    if args.fresh and args.no_fair:
        raise InvalidValueError("--fresh measures part of the fair group; it cannot go with --no-fair")
    examples = [split[i] for i in range(args.questions)]
    cases = generate_cases(examples, seed=args.seed)
    result = run_suite(Annotator(), cases, max_failures=args.show_failures)
    print(f"Annotator integrity: {len(cases)} cases over {len(examples)} questions of {args.split} (seed {args.seed})")
    print()
    print(format_table(result))
    if args.show_failures and result.failures:
        print()
        print(format_failures(result, args.show_failures))
    if not args.no_fair:
        fair_cases = generate_fair_cases(examples, seed=args.seed)
        if args.fresh:
            fair_cases += generate_fresh_cases(examples, seed=args.seed)
        fair = run_fair_suite(Annotator(), fair_cases, max_failures=args.show_failures)
        halves = "dev, held-out and fresh halves" if args.fresh else "dev and held-out halves"
        print()
        print(
            f"Fair controls: {len(fair_cases)} correct rewordings of one gold sentence each, which must keep the "
            f"gold answer's credit; pass rate per family on the {halves} of its phrasings "
            f"(measured, not gated by --strict)"
        )
        print()
        print(format_fair_table(fair, fresh=args.fresh))
        if args.show_failures and fair.failures:
            print()
            print(format_fair_failures(fair, args.show_failures))
    # Only the adversarial suite and its controls gate: the fair group is a baseline to improve on.
    below = [cls for cls in result if result.rate(cls) < PASS_THRESHOLD]
    return 1 if args.strict and below else 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m fg_env.data.synthetic.integrity``: the same as ``fg-env integrity``."""
    from fg_env.command import CommandParser, reported
    from fg_env.data.synthetic import integrity

    prog = "python -m fg_env.data.synthetic.integrity"
    parser = CommandParser(prog=prog, description=(integrity.__doc__ or "").split("\n")[0], arguments=add_arguments)
    return reported(prog, run_command)(parser.parse_args(argv))
