"""Sentence and sub-sentence segmentation with exact character offsets.

Sentences come from BlingFire (a maintained, compiled finite-state segmenter; see
``benchmarks/segmenters.py`` for why it was chosen over syntok). Its raw spans are then *repaired* so
that, whatever the input (Unicode, control characters, lone surrogates, repeated whitespace, no
final punctuation), the spans returned here satisfy three invariants:

* ``text[span.start:span.end]`` is the segment, with no leading or trailing whitespace;
* spans are sorted and do not overlap;
* every non-whitespace character of ``text`` lies in exactly one span.

Sub-sentences are cut exactly as the paper's code cuts them: ``split_text_to_subsentences`` in
allenai/FineGrainedRLHF (Wu et al., 2023), whose inner loop marks the words that start a
sub-sentence. Within one sentence, words are the whitespace-separated tokens and word 0 starts a
sub-sentence. Word ``i`` may start one only when word ``i - 1`` ends in ``,``, ``;``, ``!`` or ``?``
(its last character: punctuation inside a word, or a comma before a closing quote, does not count)
and more than 5 words remain from ``i`` on (``i + 5 < len(words)``), so the last piece always has at
least 6 words when the sentence has more than one. The piece since the last start is then measured:

* 5 words or more: word ``i`` starts a sub-sentence;
* fewer than 5, after a start in the middle of the sentence: that start is dropped and word ``i``
  starts one instead, so the short middle piece joins the piece before it (several short pieces in a
  row all join it);
* fewer than 5 at the sentence's start (the short first piece: "Also, ...", "In 1994, ..."): word
  ``i`` does not start one and the last start stays at word 0, so the short first piece joins the
  next piece, and later length checks still count from the sentence's start (in "In 1994, she moved
  on, and ..." the piece up to "on," has 5 words and stands).

Sentences come from spaCy there and from BlingFire here; sentence boundaries are always
sub-sentence boundaries. :func:`split_sub_sentences` gives exactly the paper's starts (and the
character spans of the pieces, trailing whitespace excluded) for any sentence:
``tests/test_paper_segments.py`` checks it against an independent re-implementation of the paper's
loop on hand-worked cases, every comma pattern of up to 16 words, and hypothesis-generated sentences.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import blingfire

from fg_env.types import Granularity, Span

_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Characters after which a sentence segmenter may cut, and the closing run a sentence may end with.
_MAY_CUT = re.compile(r"[.!?\u2026\u3002\uff01\uff1f\n\r\x0b\x0c\x85\u2028\u2029]")
_CLOSING = re.compile(r"[.!?\u2026\u3002\uff01\uff1f\"'\u201d\u2019)\]]*$")
_WORD = re.compile(r"\S+")
_SUB_SENTENCE_PUNCTUATION = (",", ";", "!", "?")
MIN_SUB_SENTENCE_WORDS = 5


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _raw_sentence_ends(text: str) -> list[int]:
    """Sentence end offsets proposed by BlingFire, validated (empty when it has nothing usable)."""
    # BlingFire encodes to UTF-8 and fails on lone surrogates; a same-length stand-in keeps offsets.
    safe = _LONE_SURROGATE.sub("\ufffd", text)
    try:
        _, offsets = blingfire.text_to_sentences_and_offsets(safe)
    except Exception:  # noqa: BLE001 - any failure of the backend means "no proposal", never a crash
        return []
    ends: list[int] = []
    previous = 0
    for _, end in offsets:
        if not previous <= end <= len(text):
            return []  # offsets that do not describe this text are not to be trusted
        ends.append(end)
        previous = end
    return ends


def split_sentences(text: str) -> list[Span]:
    """Sentence spans of ``text`` with the invariants of this module.

    Example:
        >>> t = "Ada was born in 1815.  She died in 1852"
        >>> [t[s.start:s.end] for s in split_sentences(t)]
        ['Ada was born in 1815.', 'She died in 1852']
    """
    return list(_split_sentences_cached(text)) if len(text) <= 4096 else _split_sentences(text)


def clear_cache() -> None:
    """Forget the cached segmentations (benchmarks measure cold caches with it)."""
    _split_sentences_cached.cache_clear()


@lru_cache(maxsize=8192)
def _split_sentences_cached(text: str) -> tuple[Span, ...]:
    # Agents replay the same sentences many times (gold answers, greedy evaluation), so a small
    # cache of short texts pays for itself; long texts are rare and not cached.
    return tuple(_split_sentences(text))


def _plainly_one_sentence(text: str) -> Span | None:
    """The stripped span of ``text`` when nothing but its end could end a sentence, else None.

    An environment step usually adds one sentence; answering it here skips BlingFire's Python
    wrapper (tens of microseconds a call). tests/test_text.py checks that both paths agree.
    """
    stripped = text.rstrip()
    closing = _CLOSING.search(stripped)
    assert closing is not None  # the pattern matches the empty string at the end of any text
    if len(stripped) > 1000 or _MAY_CUT.search(stripped, 0, closing.start()):
        return None
    start = len(text) - len(text.lstrip())
    return Span(start, len(stripped)) if start < len(stripped) else Span(0, 0)


def _split_sentences(text: str) -> list[Span]:
    plain = _plainly_one_sentence(text)
    if plain is not None:
        return [plain] if plain.end else []
    return _segment_with_blingfire(text)


def _segment_with_blingfire(text: str) -> list[Span]:
    spans: list[Span] = []
    start = 0
    # Characters after BlingFire's last sentence are ones it dropped (control characters, zero-width
    # spaces): they belong to that sentence rather than making one of their own.
    ends = _raw_sentence_ends(text)[:-1] + [len(text)]
    for end in ends:
        if end <= start:
            continue
        a, b = _strip_span(text, start, end)
        if a < b:
            spans.append(Span(a, b))
        start = end
    return spans


def split_sub_sentences(text: str, sentence: Span | None = None) -> list[Span]:
    """Sub-sentence spans of one sentence of ``text`` (the whole text when ``sentence`` is None).

    The pieces are exactly those of the paper's ``split_text_to_subsentences`` (module docstring).
    Collecting the cuts and merging pieces afterwards gives the same starts as the paper's word-by-word
    loop: merging a short first piece into the next at the end equals the paper's counting later
    lengths from the sentence's start.

    Example:
        >>> t = "Born in Paris, she moved to Rome in 1990, where she painted for ten more years."
        >>> [t[s.start:s.end] for s in split_sub_sentences(t)]
        ['Born in Paris, she moved to Rome in 1990,', 'where she painted for ten more years.']
    """
    sentence = sentence or Span(*_strip_span(text, 0, len(text)))
    words = [(m.start(), m.end()) for m in _WORD.finditer(text, sentence.start, sentence.end)]
    if not words:
        return []
    # Cut after word i when it ends in the punctuation and more than 5 words remain after it.
    cuts = [
        i + 1
        for i, (ws, we) in enumerate(words)
        if text[we - 1] in _SUB_SENTENCE_PUNCTUATION and len(words) - (i + 1) > MIN_SUB_SENTENCE_WORDS
    ]
    pieces: list[tuple[int, int]] = []  # word index ranges [first, last)
    first = 0
    for cut in cuts + [len(words)]:
        if cut <= first:
            continue
        if pieces and cut - first < MIN_SUB_SENTENCE_WORDS:
            pieces[-1] = (pieces[-1][0], cut)  # too short: merge into the previous piece
        else:
            pieces.append((first, cut))
        first = cut
    if len(pieces) > 1 and pieces[0][1] - pieces[0][0] < MIN_SUB_SENTENCE_WORDS:
        # A short opening piece has no previous piece to join: it joins the next one instead.
        pieces[:2] = [(pieces[0][0], pieces[1][1])]
    return [Span(words[a][0], words[b - 1][1]) for a, b in pieces]


def split_all_sub_sentences(text: str) -> list[Span]:
    """Sub-sentence spans of every sentence of ``text``, in order."""
    return [piece for sentence in split_sentences(text) for piece in split_sub_sentences(text, sentence)]


def segments_at(text: str, granularity: Granularity | str, sentences: Sequence[Span] | None = None) -> list[Span]:
    """The segments of ``text`` a reward model of ``granularity`` judges: the one way answers are cut.

    ``sentences`` are the sentence spans to cut (default: every sentence of ``text``); the environment
    passes the sentences an action added for segment-level models and the whole answer's for
    episode-level ones. Sub-sentences split each sentence by the paper's rule, sentences are
    themselves, and the episode is one span from the first sentence to the last (``Span(0, 0)`` for an
    empty answer, which is still judged, e.g. completeness 0).

    Example:
        >>> segments_at("Ann won. Bob lost.", "sentence")
        [Span(start=0, end=8), Span(start=9, end=18)]
        >>> segments_at("Ann won. Bob lost.", "episode")
        [Span(start=0, end=18)]
        >>> segments_at("   ", "episode")
        [Span(start=0, end=0)]
    """
    granularity = Granularity(granularity)
    sentences = split_sentences(text) if sentences is None else list(sentences)
    if granularity is Granularity.SENTENCE:
        return sentences
    if granularity is Granularity.SUB_SENTENCE:
        return [piece for sentence in sentences for piece in split_sub_sentences(text, sentence)]
    return [Span(sentences[0].start, sentences[-1].end)] if sentences else [Span(0, 0)]
