"""Sub-sentences exactly as the paper cuts them (issue 20, "Segments as the paper cuts them").

The reference below re-implements, from its description, the loop of ``get_sub_sentence_starts``
inside ``split_text_to_subsentences`` in the paper's repository allenai/FineGrainedRLHF
(Wu et al., 2023, "Fine-Grained Human Feedback Gives Better Rewards for Language Model Training").
It is written independently of fg_env's ``split_sub_sentences`` (word-by-word with a running start,
where fg_env collects cuts and merges pieces), so that agreement on every sentence is evidence that
fg_env cuts as the paper does.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fg_env.text import split_sub_sentences

MIN_WORDS = 5  # the paper's min_subsent_words


def paper_sub_sentence_starts(tokens: list[str]) -> list[int]:
    """Indices of the tokens that start a sub-sentence, by the paper's loop.

    Mirrors ``get_sub_sentence_starts`` of ``split_text_to_subsentences`` (allenai/FineGrainedRLHF):
    token 0 starts one; token i >= 1 may start one when token i-1 ends in ``, ; ! ?`` and more than
    5 tokens remain from i on (i + 5 < len). Then, if the piece since the last start is shorter than
    5 tokens: after a real start (> 0) that start is dropped and i starts one (the short piece joins
    the previous); at the sentence's start (0) nothing starts and the running start stays 0 (the short
    first piece joins the next, and later lengths count from 0). A long enough piece: i starts one.
    """
    if not tokens:
        return []
    starts = {0}
    last_start = 0
    for i in range(1, len(tokens)):
        if tokens[i - 1][-1] not in ",;!?" or i + MIN_WORDS >= len(tokens):
            continue
        if i - last_start >= MIN_WORDS:
            starts.add(i)
            last_start = i
        elif last_start > 0:
            starts.discard(last_start)
            starts.add(i)
            last_start = i
    return sorted(starts)


def paper_char_starts(sentence: str) -> list[int]:
    """Character offsets of the paper's sub-sentence starts (tokens from ``str.split`` located by ``find``)."""
    tokens = sentence.split()
    offsets, at = [], 0
    for token in tokens:
        at = sentence.index(token, at)
        offsets.append(at)
        at += len(token)
    return [offsets[i] for i in paper_sub_sentence_starts(tokens)]


def fg_env_pieces(sentence: str) -> list[str]:
    return [sentence[s.start : s.end] for s in split_sub_sentences(sentence)]


def assert_matches_paper(sentence: str) -> None:
    spans = split_sub_sentences(sentence)
    assert [s.start for s in spans] == paper_char_starts(sentence)
    # Each piece runs from its start to the end of its last word: up to the next start, less whitespace.
    ends = [s.start for s in spans[1:]] + [len(sentence)] if spans else []
    assert [s.end for s in spans] == [len(sentence[:e].rstrip()) for e in ends]


# (sentence, the pieces the paper cuts it into), worked out by hand from the loop above.
CASES = [
    pytest.param(  # short first piece: "Also," joins the next piece
        "Also, the film was released in 1994, and it was shown at the festival.",
        ["Also, the film was released in 1994,", "and it was shown at the festival."],
        id="short-first-also",
    ),
    pytest.param(  # short first piece; the check at "Rome," counts 6 words from the sentence's start, not 4
        "In 1994, she moved to Rome, where she painted for ten more years.",
        ["In 1994, she moved to Rome,", "where she painted for ten more years."],
        id="short-first-in-1994",
    ),
    pytest.param(  # short first pieces only: nothing is ever long enough before too few words remain
        "In 1994, yes, she left, then went home to rest.",
        ["In 1994, yes, she left, then went home to rest."],
        id="short-first-pieces-only",
    ),
    pytest.param(  # counting from the start: "In 1994," (2) + "she moved on," (3) = 5 words, long enough
        "In 1994, she moved on, and she painted for ten more years.",
        ["In 1994, she moved on,", "and she painted for ten more years."],
        id="short-first-counts-from-start",
    ),
    pytest.param(  # two short pieces in a row both join the piece before them
        "The film was released in 1994, then again, and again, in a longer cut for the festival audience.",
        ["The film was released in 1994, then again, and again,", "in a longer cut for the festival audience."],
        id="two-short-in-a-row",
    ),
    pytest.param(  # short middle piece joins the previous one
        "Born in a small town in Ohio, she left, and after many years abroad she returned home, where she taught"
        " until her death.",
        [
            "Born in a small town in Ohio, she left,",
            "and after many years abroad she returned home,",
            "where she taught until her death.",
        ],
        id="short-middle",
    ),
    pytest.param(  # a short last piece cannot arise: no cut with 5 words or fewer left
        "She painted for ten long years in Rome, and then, finally, she returned home.",
        ["She painted for ten long years in Rome,", "and then, finally, she returned home."],
        id="short-last",
    ),
    pytest.param(  # exactly 5 words remain after the comma: no cut
        "He was born in Paris, and then he moved away.",
        ["He was born in Paris, and then he moved away."],
        id="five-words-remain",
    ),
    pytest.param(  # a first piece of exactly 5 words stands
        "One two three four five, six seven eight nine ten eleven.",
        ["One two three four five,", "six seven eight nine ten eleven."],
        id="first-exactly-5",
    ),
    pytest.param(  # a first piece of 4 words joins the next
        "One two three four, five six seven eight nine ten.",
        ["One two three four, five six seven eight nine ten."],
        id="first-4",
    ),
    pytest.param(  # a middle piece of exactly 5 words stands
        "One two three four five, six seven eight nine ten, eleven twelve thirteen fourteen fifteen sixteen.",
        ["One two three four five,", "six seven eight nine ten,", "eleven twelve thirteen fourteen fifteen sixteen."],
        id="middle-exactly-5",
    ),
    pytest.param(  # a middle piece of 4 words joins the previous
        "One two three four five, six seven eight nine, ten eleven twelve thirteen fourteen fifteen.",
        ["One two three four five, six seven eight nine,", "ten eleven twelve thirteen fourteen fifteen."],
        id="middle-4",
    ),
    pytest.param(  # ; ! ? cut like commas ("Who could doubt it?" is a short middle piece)
        "She won the prize; the jury was unanimous! Who could doubt it? Nobody at all in the hall.",
        ["She won the prize; the jury was unanimous! Who could doubt it?", "Nobody at all in the hall."],
        id="semicolon-bang-question",
    ),
    pytest.param(  # punctuation inside a word does not cut; only the word's last character counts
        "Its 1,000 pages, a;b notes and U.S. maps, e.g.,this one cost a great deal of money.",
        ["Its 1,000 pages, a;b notes and U.S. maps,", "e.g.,this one cost a great deal of money."],
        id="punctuation-inside-words",
    ),
    pytest.param(  # a comma before a closing quote is not the word's last character
        'He said "yes," and then he left the room without another word.',
        ['He said "yes," and then he left the room without another word.'],
        id="comma-inside-quote",
    ),
    pytest.param(  # a lone comma is a word ending in a comma
        "one two three four five , six seven eight nine ten eleven",
        ["one two three four five ,", "six seven eight nine ten eleven"],
        id="lone-comma-word",
    ),
    pytest.param(
        "A sentence without any commas at all in it, nor anything else quite like that",
        ["A sentence without any commas at all in it,", "nor anything else quite like that"],
        id="cut-with-6-words-left",
    ),
    pytest.param(
        "A sentence without any punctuation at all in it and none at the end either",
        ["A sentence without any punctuation at all in it and none at the end either"],
        id="no-punctuation",
    ),
    pytest.param("   Padded,  with\tspaces,\n and six more words right here   ", None, id="odd-whitespace"),
    pytest.param("Hello", ["Hello"], id="one-word"),
]


@pytest.mark.parametrize("sentence, expected", CASES)
def test_explicit_cases_match_the_paper(sentence, expected):
    if expected is not None:
        tokens = sentence.split()
        starts = paper_sub_sentence_starts(tokens) + [len(tokens)]
        assert [" ".join(tokens[a:b]) for a, b in zip(starts, starts[1:])] == expected  # the reference is right
        assert fg_env_pieces(sentence) == expected
    assert_matches_paper(sentence)


def test_empty_sentence_has_no_piece():
    assert split_sub_sentences("") == [] and split_sub_sentences(" \t ") == []
    assert paper_char_starts("") == []


WORDS = 'Ann was born in 1990 Paris U.S. 1,000 a;b e.g.,x é 東京 (aside) "yes," it'.split()
PUNCTUATION = ["", "", "", ",", ",", ";", "!", "?", ",,", "!?"]
word = st.builds(lambda w, p: w + p, st.sampled_from(WORDS), st.sampled_from(PUNCTUATION))
gap = st.sampled_from([" ", " ", " ", "  ", "\t", "\n", "\u00a0", "\u2003"])


@st.composite
def sentences(draw):
    words = draw(st.lists(word, max_size=40))
    gaps = draw(st.lists(gap, min_size=len(words) + 1, max_size=len(words) + 1))
    return gaps[0] + "".join(w + g for w, g in zip(words, gaps[1:]))


@settings(max_examples=3000, deadline=None)
@given(sentences())
def test_any_sentence_is_cut_as_the_paper_cuts_it(sentence):
    assert_matches_paper(sentence)


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab,;!?.: \t\n\u00a0\u2029é")), max_size=120))
def test_any_text_as_one_sentence_is_cut_as_the_paper_cuts_it(text):
    # The paper splits tokens with str.split() and fg_env with the regex \S+: the same whitespace.
    assert_matches_paper(text)


def test_every_comma_pattern_up_to_16_words_is_cut_as_the_paper_cuts_it():
    # Exhaustive: whether each word ends in a comma is all that matters to the rule, so this covers
    # every sentence of up to 16 words (65,535 patterns of the 15 words that may end a piece).
    for n in range(1, 17):
        for mask in range(1 << (n - 1)):
            words = [f"w{i}," if mask >> i & 1 else f"w{i}" for i in range(n - 1)] + [f"w{n - 1}."]
            assert_matches_paper(" ".join(words))
