"""Segmentation: exact spans whatever the input, and the paper's sub-sentence rule."""

from hypothesis import given, settings
from hypothesis import strategies as st

from fg_env.text import split_all_sub_sentences, split_sentences, split_sub_sentences
from fg_env.types import Span


def texts(spans, text):
    return [text[s.start : s.end] for s in spans]


def test_sentences_basic():
    text = "Ada Lovelace was born in 1815. She died in 1852!  Was she a poet? No"
    assert texts(split_sentences(text), text) == [
        "Ada Lovelace was born in 1815.",
        "She died in 1852!",
        "Was she a poet?",
        "No",
    ]


def test_sentences_handle_abbreviations_and_unicode():
    text = "Zoë Ñúñez moved to 東京 in 2001. Then she left 😀."
    assert texts(split_sentences(text), text) == ["Zoë Ñúñez moved to 東京 in 2001.", "Then she left 😀."]


def test_empty_and_whitespace_have_no_sentence():
    assert split_sentences("") == []
    assert split_sentences(" \n\t ") == []


def test_lone_surrogate_does_not_crash():
    text = "\ud800 broken text. ok."
    assert "".join(texts(split_sentences(text), text)).replace(" ", "") == text.replace(" ", "")


def test_sub_sentence_rule_splits_only_with_more_than_five_words_left():
    text = "Born in Paris, she moved to Rome in 1990, where she painted for ten more years."
    assert texts(split_sub_sentences(text), text) == [
        "Born in Paris, she moved to Rome in 1990,",
        "where she painted for ten more years.",
    ]
    # five words after the comma: no split
    short = "He was born in Paris, and then he moved away."
    assert texts(split_sub_sentences(short), short) == [short]


def test_short_piece_merges_into_previous():
    text = "The film was released in 1994, then again, in a longer cut for the festival audience."
    pieces = texts(split_sub_sentences(text), text)
    # "then again," has 2 words: it merges into the first piece
    assert pieces == ["The film was released in 1994, then again,", "in a longer cut for the festival audience."]


def test_sub_sentences_never_cross_sentences():
    text = "One two three four five six, seven eight nine ten eleven twelve. Next sentence here."
    sentences = split_sentences(text)
    for piece in split_all_sub_sentences(text):
        assert any(s.start <= piece.start and piece.end <= s.end for s in sentences)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_span_invariants_for_any_text(text):
    spans = split_sentences(text)
    previous_end = 0
    covered = set()
    for span in spans:
        piece = text[span.start : span.end]
        assert piece and piece == piece.strip()
        assert span.start >= previous_end
        previous_end = span.end
        covered.update(range(span.start, span.end))
        for sub in split_sub_sentences(text, span):
            assert span.start <= sub.start < sub.end <= span.end
            assert text[sub.start : sub.end] == text[sub.start : sub.end].strip()
    # every non-whitespace character lies in a sentence
    assert all(i in covered for i, c in enumerate(text) if not c.isspace())


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["Ann", "was", "born,", "in", "1990.", "Paris!", "yes?", "and;", "  ", "\n", "é"]), max_size=60))
def test_sub_sentences_cover_the_sentence_words(words):
    text = " ".join(words)
    for sentence in split_sentences(text):
        pieces = split_sub_sentences(text, sentence)
        assert pieces[0].start == sentence.start and pieces[-1].end == sentence.end
        assert all(a.end <= b.start for a, b in zip(pieces, pieces[1:]))
        assert " ".join(text[p.start : p.end] for p in pieces).split() == text[sentence.start : sentence.end].split()


def test_span_rejects_negative():
    import pytest

    with pytest.raises(ValueError):
        Span(3, 1)


PIECES = ["Harlow Bridge is a 1994 film.", "It was directed by Ann Lee", "e.g.", "Mr.", "...", ":", "\n", "\x85", "…",
          "“Quoted.”", "(aside)", "U.S.", "it", "was", "released", "in", "2003", "!", "?", "Zoë", "東京。"]


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=120), st.lists(st.sampled_from(PIECES), max_size=12).map(" ".join)))
def test_single_sentence_fast_path_agrees_with_the_segmenter(text):
    from fg_env.text import _segment_with_blingfire, _split_sentences

    assert _split_sentences(text) == _segment_with_blingfire(text)
