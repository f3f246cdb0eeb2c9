"""Numbers written in words, as an answer may state a year or a length.

The annotator reads "1994" and "nineteen ninety-four" alike, and "102 minutes" and "one hundred and
two minutes" alike: a claim is judged by what it says, not by how its digits are spelled. Tokens are
the reader's (lower case; a hyphen splits "ninety-four" into two tokens).

Two readings are tried, and the longer wins:

* **cardinal**: "two thousand and five" (2005), "one hundred and two" (102), "twelve" (12);
* **year**, as years are spoken: a pair of two-digit groups, "nineteen ninety-four" (1994),
  "nineteen oh five" (1905), "twenty twenty-one" (2021), or "nineteen hundred" (1900).

Example:
    >>> read_number("nineteen ninety four was".split(), 0, 4)
    (1994, 3)
    >>> read_number("two thousand and five".split(), 0, 4)
    (2005, 4)
    >>> read_number("one hundred and two minutes".split(), 0, 5)
    (102, 4)
    >>> read_number("the end".split(), 0, 2) is None
    True
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["NUMBER_TOKENS", "read_number"]

UNITS: dict[str, int] = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
}
TEENS: dict[str, int] = {
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
TENS: dict[str, int] = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
SCALES: dict[str, int] = {"hundred": 100, "thousand": 1000}
# Every token that can start or continue a number ("and" and "oh" only continue one).
NUMBER_TOKENS: frozenset[str] = frozenset(UNITS) | frozenset(TEENS) | frozenset(TENS) | frozenset(SCALES)


def _two_digits(tokens: Sequence[str], i: int, last: int) -> tuple[int, int] | None:
    """A number below 100 at ``tokens[i]``: "seven", "fourteen", "ninety four"; (value, tokens used)."""
    if i >= last:
        return None
    t = tokens[i]
    if t in UNITS:
        return UNITS[t], 1
    if t in TEENS:
        return TEENS[t], 1
    if t in TENS:
        if i + 1 < last and tokens[i + 1] in UNITS and tokens[i + 1] != "zero":
            return TENS[t] + UNITS[tokens[i + 1]], 2
        return TENS[t], 1
    return None


def _cardinal(tokens: Sequence[str], i: int, last: int) -> tuple[int, int] | None:
    """The longest cardinal number at ``tokens[i]`` (below a million); (value, tokens used)."""
    total, used = 0, 0
    group = _two_digits(tokens, i, last)
    if group is None:
        return None
    current, used = group
    while i + used < last:
        t = tokens[i + used]
        if t == "hundred" and 0 < current < 10:
            current *= 100
            used += 1
        elif t == "thousand" and 0 < current < 1000 and total == 0:
            total, current = current * 1000, 0
            used += 1
        else:
            break
        # After a scale word, "and" may join the rest ("one hundred and two"); the rest is optional.
        after = i + used
        skip = 1 if after < last and tokens[after] == "and" else 0
        rest = _two_digits(tokens, after + skip, last)
        if rest is not None:
            current += rest[0]
            used += skip + rest[1]
    return total + current, used


def _spoken_year(tokens: Sequence[str], i: int, last: int) -> tuple[int, int] | None:
    """A year spoken as two groups: "nineteen ninety four", "nineteen oh five", "nineteen hundred"."""
    if i >= last or not (tokens[i] in TEENS or tokens[i] in TENS):
        return None
    head = _two_digits(tokens, i, last)
    if head is None or head[0] < 10:
        return None
    j = i + head[1]
    if j >= last:
        return None
    if tokens[j] == "hundred":
        return head[0] * 100, head[1] + 1
    if tokens[j] == "oh" and j + 1 < last and tokens[j + 1] in UNITS and tokens[j + 1] != "zero":
        return head[0] * 100 + UNITS[tokens[j + 1]], head[1] + 2
    tail = _two_digits(tokens, j, last)
    if tail is None or tail[0] < 10:
        return None
    return head[0] * 100 + tail[0], head[1] + tail[1]


def read_number(tokens: Sequence[str], i: int, last: int) -> tuple[int, int] | None:
    """The number written in words at ``tokens[i]`` (within ``tokens[:last]``): (value, tokens used),
    or None when no number starts there. The longer of the cardinal and the spoken-year readings wins
    ("nineteen ninety four": 1994, not 19)."""
    readings = [r for r in (_spoken_year(tokens, i, last), _cardinal(tokens, i, last)) if r is not None]
    if not readings:
        return None
    return max(readings, key=lambda r: r[1])
