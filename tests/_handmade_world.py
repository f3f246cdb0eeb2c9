"""One fixed, hand-written question of the built-in world's kind, for exact-span annotator tests.

Written by hand (not generated) so that the tests pin the annotator's behaviour on the documented
``meta["world"]`` structure, independently of the generator's random choices.

Passage 1, "Harlow Bridge (film)":
  1 Harlow Bridge is a 1994 comedy film directed by Ana Ashby.
  2 It stars Hugo Vance and runs 102 minutes.
  3 The film was produced by Bluefin Pictures.
  4 Ashby was born in 1948 in Kessling.
  5 Ashby also directed the 2001 film Glass Harbor.
Passage 2, "Harlow Bridge (album)":
  1 Harlow Bridge is a 2003 jazz album by Mira Calloway.
  2 It was recorded in Dunmore.
  3 The album received mixed reviews.
  4 Redwing Records was founded in 1962.
"""

from __future__ import annotations

from fg_env.data.synthetic.facts import (
    ANSWER,
    DISTRACTOR,
    MAJOR,
    MINOR,
    SUPPORTING,
    Entity,
    Fact,
    FactLocation,
    Interpretation,
    World,
)
from fg_env.types import Passage, QAExample

GOLD = (
    "Harlow Bridge may refer to several works. The film Harlow Bridge, directed by Ana Ashby, was released in 1994. "
    "It was produced by Bluefin Pictures. The album of the same name came out in 2003 and was recorded by Mira Calloway."
)


def harlow_bridge() -> QAExample:
    def at(*locations: tuple[int, int]) -> tuple[FactLocation, ...]:
        return tuple(FactLocation(p, s) for p, s in locations)

    entities = (
        Entity("film", "film", "Harlow Bridge"),
        Entity("album", "album", "Harlow Bridge"),
        Entity("ashby", "person", "Ana Ashby"),
        Entity("vance", "person", "Hugo Vance"),
        Entity("calloway", "person", "Mira Calloway"),
        Entity("bluefin", "organization", "Bluefin Pictures"),
        Entity("redwing", "organization", "Redwing Records"),
        Entity("glass", "film", "Glass Harbor"),
    )
    facts = (
        Fact("film", "year", "1994", ANSWER, at((1, 1)), 0),
        Fact("film", "genre", "comedy", SUPPORTING, at((1, 1)), 0),
        Fact("film", "creator", "Ana Ashby", MAJOR, at((1, 1)), 0),
        Fact("film", "contributor", "Hugo Vance", DISTRACTOR, at((1, 2)), 0),
        Fact("film", "length", "102 minutes", DISTRACTOR, at((1, 2)), 0),
        Fact("film", "organization", "Bluefin Pictures", MINOR, at((1, 3)), 0),
        Fact("ashby", "birth_year", "1948", DISTRACTOR, at((1, 4))),
        Fact("ashby", "birthplace", "Kessling", DISTRACTOR, at((1, 4))),
        Fact("glass", "creator", "Ana Ashby", DISTRACTOR, at((1, 5))),
        Fact("glass", "year", "2001", DISTRACTOR, at((1, 5))),
        Fact("album", "year", "2003", ANSWER, at((2, 1)), 1),
        Fact("album", "genre", "jazz", SUPPORTING, at((2, 1)), 1),
        Fact("album", "creator", "Mira Calloway", MAJOR, at((2, 1)), 1),
        Fact("album", "place", "Dunmore", SUPPORTING, at((2, 2)), 1),
        Fact("album", "reception", "mixed reviews", DISTRACTOR, at((2, 3)), 1),
        Fact("redwing", "founded", "1962", DISTRACTOR, at((2, 4))),
    )
    world = World(
        key="test:harlow-bridge",
        name="Harlow Bridge",
        question_attribute="year",
        entities=entities,
        interpretations=(Interpretation("film", "film", "1994"), Interpretation("album", "album", "2003")),
        facts=facts,
    )
    passages = (
        Passage(
            "Harlow Bridge (film)",
            (
                "Harlow Bridge is a 1994 comedy film directed by Ana Ashby.",
                "It stars Hugo Vance and runs 102 minutes.",
                "The film was produced by Bluefin Pictures.",
                "Ashby was born in 1948 in Kessling.",
                "Ashby also directed the 2001 film Glass Harbor.",
            ),
        ),
        Passage(
            "Harlow Bridge (album)",
            (
                "Harlow Bridge is a 2003 jazz album by Mira Calloway.",
                "It was recorded in Dunmore.",
                "The album received mixed reviews.",
                "Redwing Records was founded in 1962.",
            ),
        ),
    )
    return QAExample("handmade-harlow-bridge", "When was Harlow Bridge released?", passages, (GOLD,), {"world": world})
