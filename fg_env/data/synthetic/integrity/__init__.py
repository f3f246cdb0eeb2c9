"""An integrity suite for the built-in world's annotator: adversarial probes, each with its expected label.

The annotator (:mod:`fg_env.data.synthetic.annotator`) is the reward a policy learns from, so it must
judge like a careful QA-Feedback annotator and must not be gameable: a policy finds any cheap text
that scores well (a hedge, a foreign sentence, a made-up name, a vacuous remark about the topic).
This suite builds such texts from each question's own gold answers, passages and ground truth, with
the label a careful human would give, and reports which share of each class the annotator gets right.

A case (:class:`IntegrityCase`) is a *context* (a prefix of a gold answer made of whole sentences,
possibly empty) followed by one *probe* sentence; the answer annotated is ``context + " " + probe``.
:func:`check_case` compares the annotator's verdicts on the probe with :class:`Expect`:

* ``factuality``: the probe sentence's factuality error (None: no error);
* ``relevance``: the relevance error every sub-sentence of the probe carries (None: none carries
  one); probes are chosen so that one label fits all of their sub-sentences;
* ``completeness_gain``: whether completeness must rise over the context alone (None: not checked);
* ``missing``: a missing-information type the answer's feedback must hold (and then completeness
  must be below 1);

and checks the prefix property: the context's own errors are the same with the probe after it.
:data:`ANY` marks a verdict a class does not test.

Adversarial classes and their controls (:data:`CLASSES`), in three groups (:data:`GROUPS`):

* controls, which must not be flagged: ``gold``, ``framing``, ``hedged-true``, ``number-words-true``;
* errors the annotator is built to catch: ``wrong-value``, ``other-interpretation``, ``unverifiable``,
  ``distractor``, ``repeat``, ``cut-off``, ``shuffled``, ``missing-answer``;
* holes found by review: ``unknown-person``, ``mixed-name``, ``unknown-title``, ``unknown-company``,
  ``unknown-place``, ``negated-true``, ``denied-true``, ``vacuous``, ``question-restated``,
  ``number-words-false``, ``foreign-language``, ``foreign-script``.

Expected verdicts (factuality, relevance, completeness gain; "any": not checked; "WG": Wrong-Grounding,
"Irr": Irrelevant):

======================  ==============================================  ============  ==========  =====
class                   probe                                           factuality    relevance   gain
======================  ==============================================  ============  ==========  =====
gold                    a gold sentence after the ones before it        None          None        yes*
framing                 an opening ("X may refer to several works.")    None          None        no
hedged-true             a gold claim under "Reportedly," and the like   None          None        yes
number-words-true       a gold year in words / a length in words        None          None / Irr  yes* / no
wrong-value             a year the world never gives                    WG            None        no*
other-interpretation    another interpretation's value                  WG            None        no*
unverifiable            an attribute the passages never state           Unverifiable  None / Irr  no
distractor              a true background fact                          None          Irrelevant  no
repeat                  a gold claim again, after the whole gold        None          Redundant   no
cut-off                 a gold sentence cut after "by", "the", "in"     None          Incoherent  any
shuffled                a gold sentence's words shuffled to salad       None          Incoherent  no
missing-answer          gold without one interpretation's sentences     None          None        any
unknown-person          a name the world never uses                     WG            None        no*
mixed-name              a known first name or surname, the other new    WG            None        no*
unknown-title           a true fact of a work under an unused title     Unverifiable  Irrelevant  no
unknown-company         an unused company                               WG            None        no*
unknown-place           an unused place                                 WG            None        no*
negated-true            a true claim negated ("wasn't", "never")        WG            any         no
denied-true             "It is not true that <true claim>."             WG            any         no
vacuous                 "X is an interesting topic." and the like       None          Irrelevant  no
question-restated       the question, or "The question is ..."          None          Irrelevant  no
number-words-false      a wrong year in words                           WG            None        no*
foreign-language        a true claim in German, French, Spanish, ...    None          Incoherent  any
foreign-script          a true claim in Russian, Greek, Chinese, ...    None          Incoherent  any
======================  ==============================================  ============  ==========  =====

``missing-answer`` also expects ``Missing-Answer`` among the missing information. "*": when the
sentence states a required fact the context lacks (gold), or no other one (edits; else unchecked).
A length is a background fact, so off topic in words as in digits; so are the cast, length and
reception an ``unverifiable`` probe may claim. Whether a false denial is also off topic is left
unchecked: the classes test that it is wrong and earns nothing.

Probes edit gold sentences (the fact values inside a sentence are found from the world's facts) or
use the world's own phrasings (:mod:`fg_env.data.synthetic.phrasing`) with the question's real facts,
so the English stays the world's. A probe whose label would be ambiguous for a question is skipped
for it (a pronoun that would change referent, a value said twice, a sentence about two works).
Generation is deterministic given the seed: each question and class draws from its own
``random.Random`` seeded with the seed, the question's key and the class.

A fourth group, ``fair`` (:data:`FAIR_CLASSES`, :mod:`.fair`), holds correct rewordings of one gold
sentence, one class per family (voice, clause order, apposition, possessives, coordination, reference,
synonyms, dates, discourse markers), built from the question's real facts with the rest of the gold
answer around them: each must get no error and keep the gold answer's completeness. Each family's
phrasings are split into a dev half and a held-out half by a fixed rule (:data:`.fair.SPLIT_SEED`),
and the group is measured per family and half, not gated: it is the baseline a fairer annotator is
judged against (a fix is developed on the dev half and judged on the held-out half).

The package has one job per module: :mod:`.cases` (case types, classes, expected verdicts),
:mod:`.phrasings` (every phrasing as data: unused names, numbers in words, hedges, the ten
languages' templates, the fair families' rewordings), :mod:`.probes` (the adversarial generators),
:mod:`.fair` (the fair generators and the dev/held-out split) and :mod:`.runner` (checking, the
tables, the command).

Run it with ``fg-env integrity`` (or ``python -m fg_env.data.synthetic.integrity``).

Example:
    >>> from fg_env.data.synthetic import Annotator, SyntheticQA
    >>> cases = generate_cases(SyntheticQA().split("test")[:2], seed=0)
    >>> sorted({case.cls for case in cases}) == sorted(CLASSES)
    True
    >>> gold = [case for case in cases if case.cls == "gold"]
    >>> check_case(Annotator(), gold[0])
    (True, 'ok')
    >>> result = run_suite(Annotator(), gold)
    >>> result["gold"][0] == result["gold"][1] == len(gold)
    True
"""

from fg_env.data.synthetic.integrity.cases import (
    ANY,
    CLASSES,
    DEV,
    FAIR_CLASSES,
    FAIR_FAMILIES,
    FAIR_GROUP,
    FRESH,
    GROUPS,
    HELD_OUT,
    Expect,
    IntegrityCase,
)
from fg_env.data.synthetic.integrity.fair import (
    FAIR_PHRASINGS,
    SPLIT_SEED,
    FairPhrasing,
    generate_fair_cases,
    generate_fresh_cases,
    split_halves,
)
from fg_env.data.synthetic.integrity.phrasings import (
    FOREIGN_LANGUAGES,
    FOREIGN_SCRIPTS,
    FRESH_PHRASINGS,
    UNKNOWN_FIRST_NAMES,
    UNKNOWN_ORG_NAMES,
    UNKNOWN_ORG_WORDS,
    UNKNOWN_PLACES,
    UNKNOWN_SURNAMES,
    UNKNOWN_TITLE_FIRST_WORDS,
    UNKNOWN_TITLE_SECOND_WORDS,
    number_words,
    year_words,
)
from fg_env.data.synthetic.integrity.probes import generate_cases
from fg_env.data.synthetic.integrity.runner import (
    PASS_THRESHOLD,
    Failure,
    FairResult,
    SuiteResult,
    add_arguments,
    check_case,
    format_failures,
    format_fair_failures,
    format_fair_table,
    format_table,
    main,
    run_command,
    run_fair_suite,
    run_suite,
)

__all__ = [
    "ANY",
    "CLASSES",
    "DEV",
    "FAIR_CLASSES",
    "FAIR_FAMILIES",
    "FAIR_GROUP",
    "FAIR_PHRASINGS",
    "FOREIGN_LANGUAGES",
    "FOREIGN_SCRIPTS",
    "FRESH",
    "FRESH_PHRASINGS",
    "GROUPS",
    "HELD_OUT",
    "PASS_THRESHOLD",
    "SPLIT_SEED",
    "UNKNOWN_FIRST_NAMES",
    "UNKNOWN_ORG_NAMES",
    "UNKNOWN_ORG_WORDS",
    "UNKNOWN_PLACES",
    "UNKNOWN_SURNAMES",
    "UNKNOWN_TITLE_FIRST_WORDS",
    "UNKNOWN_TITLE_SECOND_WORDS",
    "Expect",
    "FairPhrasing",
    "FairResult",
    "Failure",
    "IntegrityCase",
    "SuiteResult",
    "add_arguments",
    "check_case",
    "format_failures",
    "format_fair_failures",
    "format_fair_table",
    "format_table",
    "generate_cases",
    "generate_fair_cases",
    "generate_fresh_cases",
    "main",
    "number_words",
    "run_command",
    "run_fair_suite",
    "run_suite",
    "split_halves",
    "year_words",
]
