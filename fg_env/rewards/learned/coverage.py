"""Completeness rankings for QA-Feedback, by the paper's own coverage heuristic.

QA-Feedback's release holds no completeness comparisons, so the paper's scripts derive them
(``tasks/qa_feedback/reward_modeling/create_comp_rm_files.py``), and this module does the same:

1. each sub-sentence of the human-corrected answer (``corrected-prediction``) is matched to its most
   similar passage sentence; matches scoring at least 0.85 are the question's *information units*,
   less those that only carry ``Missing-Minor-Auxiliary`` information absent from prediction 1;
2. an answer's *coverage* is the share of those units its own sub-sentences match (>= 0.85);
3. of the four predictions, the one with higher coverage is preferred; equal coverage is a tie
   (skipped); questions with no information unit give no pair.

Similarity is :meth:`difflib.SequenceMatcher.quick_ratio` (the multiset character overlap
``2 * matches / (len(a) + len(b))``) of the sub-sentence against every window of the passage sentence
that is 5 % longer in words than it (1.0 on an exact substring), as in the paper's script; here it is
computed for all windows at once from character histograms, which gives the same numbers fast.
"""

from __future__ import annotations

import numpy as np

from fg_env.data.qa_feedback import PREFERENCE_PAIRS, FeedbackRecord
from fg_env.text import split_all_sub_sentences

MIN_SIMILARITY = 0.85


def _normalise(text: str) -> str:
    return " ".join(text.split())


class PassageMatcher:
    """Best-matching passage sentence for any text, over one question's passages.

    Example:
        >>> m = PassageMatcher({(1, 1): "Ann was born in Paris in 1950.", (1, 2): "She paints."})
        >>> m.best("Ann was born in Paris")
        ((1, 1), 1.0)
    """

    def __init__(self, sentences: dict[tuple[int, int], str]) -> None:
        self.ids = list(sentences)
        self.texts = [_normalise(s) for s in sentences.values()]
        self._words = [t.split() for t in self.texts]
        self._alphabet: dict[str, int] = {" ": 0, "#": 1}
        for text in self.texts:
            for c in text:
                self._alphabet.setdefault(c, len(self._alphabet))
        # Per sentence, the cumulative character histogram of its words: a window's histogram is a
        # difference of two rows, so every window of every length costs one subtraction.
        self._cumulative = [self._cumulative_histogram(words) for words in self._words]
        self._pad = self._histogram("#")

    def _histogram(self, text: str) -> np.ndarray:
        hist = np.zeros(len(self._alphabet) + 1, dtype=np.int64)  # the last bin: characters no passage has
        for c in text:
            hist[self._alphabet.get(c, len(self._alphabet))] += 1
        return hist

    def _cumulative_histogram(self, words: list[str]) -> np.ndarray:
        hists = np.zeros((len(words) + 1, len(self._alphabet) + 1), dtype=np.int64)
        for i, word in enumerate(words):
            hists[i + 1] = self._histogram(word)
        return np.cumsum(hists, axis=0)

    def _similarity(self, cumulative: np.ndarray, target: str, target_hist: np.ndarray, n: int) -> float:
        # Pad short sentences with "#" words as the paper does, so there is always a window.
        diff = n - (len(cumulative) - 1) + 1
        if diff > 0:
            cumulative = np.vstack([cumulative, cumulative[-1] + np.outer(np.arange(1, diff + 1), self._pad)])
        windows = cumulative[n:] - cumulative[:-n]  # one row per window of n words
        windows[:, 0] += n - 1  # the spaces that join the window's words
        lengths = windows.sum(axis=1)
        matches = np.minimum(windows, target_hist).sum(axis=1)
        return float((2.0 * matches / (lengths + len(target))).max())

    def best(self, text: str) -> tuple[tuple[int, int], float]:
        """The id of the most similar passage sentence and the similarity (first one on ties)."""
        target = _normalise(text)
        n_words = len(target.split())
        n = n_words + int(0.05 * n_words)
        target_hist = self._histogram(target)
        best_id, best_sim = (-1, -1), -1.0
        for sentence_id, context, cumulative in zip(self.ids, self.texts, self._cumulative):
            if target in context:
                sim = 1.0
            else:
                sim = self._similarity(cumulative, target, target_hist, n)
            if sim > best_sim:
                best_id, best_sim = sentence_id, sim
        return best_id, best_sim

    def matched_ids(self, text: str) -> set[tuple[int, int]]:
        """Ids of the passage sentences that some sub-sentence of ``text`` matches well enough."""
        text = _normalise(text)
        found = set()
        for span in split_all_sub_sentences(text):
            sentence_id, sim = self.best(span.slice(text))
            if sim >= MIN_SIMILARITY:
                found.add(sentence_id)
        return found


def information_units(record: FeedbackRecord, matcher: PassageMatcher | None = None) -> set[tuple[int, int]]:
    """The (passage id, sentence id) pairs whose information a complete answer holds."""
    matcher = matcher or _matcher(record)
    minor = {
        (m.passage_id, s)
        for m in record.feedback.missing_info
        if m.error_type == "Missing-Minor-Auxiliary"
        for s in m.sentence_ids
    }
    corrected = _normalise(record.feedback.corrected_prediction)
    units, minor_only = set(), set()
    first = record.predictions[0].lower()
    for span in split_all_sub_sentences(corrected):
        piece = span.slice(corrected)
        sentence_id, sim = matcher.best(piece)
        if sim < MIN_SIMILARITY:
            continue
        units.add(sentence_id)
        # Minor information counts only when prediction 1 already states it.
        if sentence_id in minor:
            minor_only.add(sentence_id)
            if piece.lower() in first:
                minor_only.discard(sentence_id)
    return units - minor_only


def _matcher(record: FeedbackRecord) -> PassageMatcher:
    return PassageMatcher({(i + 1, j + 1): s for i, p in enumerate(record.passages) for j, s in enumerate(p.sentences)})


def coverage_scores(record: FeedbackRecord) -> list[float] | None:
    """Each prediction's share of the question's information units; None when it has none."""
    matcher = _matcher(record)
    units = information_units(record, matcher)
    if not units:
        return None
    return [len(matcher.matched_ids(p) & units) / len(units) for p in record.predictions]


def completeness_pairs(record: FeedbackRecord) -> list[tuple[int, int]]:
    """``(more complete, less complete)`` prediction indices, ties skipped.

    Example:
        >>> from fg_env.feedback.schema import Feedback
        >>> from fg_env.types import Passage
        >>> p = Passage("Ann", ("Ann was born in Paris in 1950.", "She moved to Rome in 1970."))
        >>> full = "Ann was born in Paris in 1950. She moved to Rome in 1970."
        >>> rec = FeedbackRecord("q", "Who is Ann?", (p,), full,
        ...     (full, "Ann was born in Paris in 1950.", "Ann likes tea.", full), (0,) * 6,
        ...     Feedback(corrected_prediction=full))
        >>> completeness_pairs(rec)
        [(0, 1), (0, 2), (1, 2), (3, 1), (3, 2)]
    """
    scores = coverage_scores(record)
    if scores is None:
        return []
    pairs = []
    for a, b in PREFERENCE_PAIRS:
        if scores[a] > scores[b]:
            pairs.append((a, b))
        elif scores[b] > scores[a]:
            pairs.append((b, a))
    return pairs
