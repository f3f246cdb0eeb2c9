"""The words the built-in world is made of: names, titles, places, companies and the kinds of works.

Every list is fictional (no real person, work or company) and the lists are pairwise disjoint once
lower-cased, so that a token says what it is: ``Kessling`` is always a place, ``Ashby`` always a
surname. The annotator relies on that to read answers back (``fg_env.data.synthetic.reading``).

A :class:`KindSpec` describes one kind of work (film, album, ...): the nouns that name it and the
phrasings of each of its attributes, so that one fact can be said in several ways.

Example:
    >>> KINDS["film"].nouns[0], KINDS["novel"].length_unit
    ('film', 'pages')
"""

from __future__ import annotations

from dataclasses import dataclass

FEMALE_FIRST_NAMES: tuple[str, ...] = (
    "Ana",
    "Beatrix",
    "Clara",
    "Delia",
    "Edith",
    "Freya",
    "Greta",
    "Imogen",
    "Juno",
    "Kira",
    "Lena",
    "Mira",
    "Nadia",
    "Priya",
    "Rosa",
    "Sabine",
    "Tessa",
    "Vera",
    "Yara",
    "Zoe",
    "Alma",
    "Bianca",
    "Celeste",
    "Dora",
    "Elsa",
    "Ines",
    "Leonie",
    "Marta",
    "Noor",
    "Petra",
    "Ruth",
    "Selma",
    "Thea",
    "Ursula",
    "Wanda",
    "Agnes",
    "Carmen",
    "Helga",
    "Livia",
    "Odette",
)
MALE_FIRST_NAMES: tuple[str, ...] = (
    "Adrian",
    "Bruno",
    "Cyril",
    "Dmitri",
    "Elias",
    "Felix",
    "Gideon",
    "Hugo",
    "Ivo",
    "Jasper",
    "Kofi",
    "Leon",
    "Milo",
    "Nico",
    "Oskar",
    "Pavel",
    "Quentin",
    "Rafael",
    "Silas",
    "Tobias",
    "Ulric",
    "Victor",
    "Wesley",
    "Xavier",
    "Yusuf",
    "Anton",
    "Casper",
    "Dorian",
    "Emil",
    "Florian",
    "Gustav",
    "Henrik",
    "Ignatius",
    "Julian",
    "Lorenzo",
    "Matthias",
    "Nikolai",
    "Otto",
    "Rupert",
    "Stellan",
)
SURNAMES: tuple[str, ...] = (
    "Ashby",
    "Bramwell",
    "Calloway",
    "Draycott",
    "Ellery",
    "Fairweather",
    "Gillan",
    "Hadley",
    "Iverson",
    "Jessop",
    "Kerrigan",
    "Lockhart",
    "Maddox",
    "Norcross",
    "Okafor",
    "Pemberton",
    "Quill",
    "Radcliffe",
    "Sutter",
    "Thorne",
    "Underhill",
    "Vance",
    "Whitlock",
    "Yardley",
    "Zeller",
    "Abernathy",
    "Blackwood",
    "Carrington",
    "Delacroix",
    "Eastwick",
    "Fenmore",
    "Garroway",
    "Holloway",
    "Ingram",
    "Jardine",
    "Kowalski",
    "Lindqvist",
    "Marchetti",
    "Nakamura",
    "Ostrowski",
    "Petrakis",
    "Quinlan",
    "Rasmussen",
    "Salazar",
    "Takahashi",
    "Ulbricht",
    "Valdivia",
    "Wexford",
    "Yilmaz",
    "Zimmerman",
    "Achterberg",
    "Beaumont",
    "Castellano",
    "Dubois",
    "Esposito",
    "Fitzgerald",
    "Gallagher",
    "Halvorsen",
    "Ishikawa",
    "Janssen",
    "Kaminski",
    "Lefebvre",
    "Moreau",
    "Novak",
    "Oyelaran",
    "Palmieri",
    "Rosenthal",
    "Sandoval",
    "Tremblay",
    "Vasquez",
    "Weatherby",
    "Abbott",
    "Brennan",
    "Costa",
    "Dalgaard",
    "Engstrom",
    "Ferreira",
    "Grunewald",
    "Hartigan",
    "Ivanova",
    "Jovanovic",
    "Kastner",
    "Lachance",
    "Mbeki",
    "Nordstrom",
    "Oakes",
    "Pryce",
    "Romero",
    "Strand",
    "Tennant",
    "Varga",
    "Winslow",
    "Adeyemi",
    "Bergstrom",
    "Cordell",
    "Devereux",
    "Eriksen",
    "Falconer",
    "Goldberg",
    "Hendricks",
)
# Titles are "FIRST SECOND" pairs: 90 x 60 = 5,400 names, enough for every question to get its own.
TITLE_FIRST_WORDS: tuple[str, ...] = (
    "Harlow",
    "Amber",
    "Silver",
    "Hollow",
    "Crimson",
    "Quiet",
    "Velvet",
    "Paper",
    "Iron",
    "Golden",
    "Broken",
    "Distant",
    "Northern",
    "Midnight",
    "Copper",
    "Glass",
    "Ivory",
    "Scarlet",
    "Restless",
    "Silent",
    "Burning",
    "Frozen",
    "Wandering",
    "Hidden",
    "Lonely",
    "Crooked",
    "Emerald",
    "Sapphire",
    "Whispering",
    "Forgotten",
    "Endless",
    "Gentle",
    "Wild",
    "Shattered",
    "Sleeping",
    "Falling",
    "Rising",
    "Drifting",
    "Fading",
    "Paisley",
    "Electric",
    "Neon",
    "Marble",
    "Rusty",
    "Hazy",
    "Lunar",
    "Solar",
    "Coral",
    "Cedar",
    "Willow",
    "Maple",
    "Juniper",
    "Saffron",
    "Indigo",
    "Violet",
    "Obsidian",
    "Crystal",
    "Velour",
    "Tangled",
    "Secret",
    "Sunken",
    "Fractured",
    "Wicked",
    "Tender",
    "Hollowed",
    "Brittle",
    "Radiant",
    "Somber",
    "Feral",
    "Vanishing",
    "Lingering",
    "Dusky",
    "Ashen",
    "Ember",
    "Starlit",
    "Twilight",
    "Winter",
    "Summer",
    "Autumn",
    "Vernal",
    "Stormy",
    "Misty",
    "Rolling",
    "Blazing",
    "Shivering",
    "Humming",
    "Glimmering",
    "Tumbling",
)
TITLE_SECOND_WORDS: tuple[str, ...] = (
    "Bridge",
    "Harbor",
    "Orchard",
    "Lantern",
    "Garden",
    "Meadow",
    "Mirror",
    "River",
    "Tower",
    "Window",
    "Letters",
    "Horizon",
    "Compass",
    "Feather",
    "Anchor",
    "Valley",
    "Coast",
    "Shadow",
    "Harvest",
    "Lighthouse",
    "Carousel",
    "Crossing",
    "Station",
    "Promise",
    "Echo",
    "Canyon",
    "Island",
    "Parade",
    "Kingdom",
    "Hearts",
    "Dreams",
    "Tides",
    "Skies",
    "Roads",
    "Fields",
    "Waltz",
    "Lullaby",
    "Signal",
    "Frontier",
    "Cathedral",
    "Circus",
    "Voyage",
    "Ferry",
    "Orchid",
    "Thunder",
    "Rain",
    "Embers",
    "Footsteps",
    "Mountain",
    "Forest",
    "Ocean",
    "Desert",
    "Sparrows",
    "Wolves",
    "Lanterns",
    "Pines",
    "Stairs",
    "Rooftops",
    "Machines",
    "Engines",
)
PLACES: tuple[str, ...] = (
    "Kessling",
    "Dunmore",
    "Port Avery",
    "Aldermoor",
    "Brackenfield",
    "Carrowby",
    "Elsford",
    "Fenwick",
    "Galloway Bay",
    "Hollinsgate",
    "Northam",
    "Oakhurst",
    "Pellham",
    "Quarry Falls",
    "Redmere",
    "Saltcombe",
    "Tamsworth",
    "Upperton",
    "Westlake",
    "Yarrowdale",
    "Ambleside Cross",
    "Briarwick",
    "Coldharbour",
    "Dunraven",
    "Eastmarch",
    "Farrowfield",
    "Glenmoor",
    "Havenport",
    "Inverlake",
    "Kilbride",
    "Lowmarsh",
    "Mistral Point",
    "Newhaven Sound",
    "Ormsby",
    "Pinecrest",
    "Ravenholm",
    "Stonyford",
    "Thornbury",
    "Vellmar",
    "Wyndham Heath",
)
ORG_WORDS: tuple[str, ...] = (
    "Bluefin",
    "Redwing",
    "Ashgrove",
    "Kestrel",
    "Lodestar",
    "Halcyon",
    "Meridian",
    "Larkspur",
    "Tidewater",
    "Greywood",
    "Brightwater",
    "Northgate",
    "Pinnacle",
    "Riverbend",
    "Foxglove",
    "Mariner",
    "Cobblestone",
    "Highwater",
    "Starling",
    "Copperfield",
    "Bellwether",
    "Driftwood",
    "Evergreen",
    "Gatehouse",
    "Ironbark",
    "Kingfisher",
    "Longbow",
    "Moonrise",
    "Nightjar",
    "Oakmoss",
)
RECEPTIONS: dict[str, str] = {
    # value -> the verb phrase that says it ("The film received mixed reviews.")
    "positive reviews": "received positive reviews",
    "mixed reviews": "received mixed reviews",
    "negative reviews": "received negative reviews",
    "critical acclaim": "won critical acclaim",
    "cult following": "gained a cult following",
}

# Attribute names, shared by the world, its ground truth and the annotator.
YEAR, CREATOR, ORGANIZATION, PLACE, GENRE = "year", "creator", "organization", "place", "genre"
CONTRIBUTOR, LENGTH, RECEPTION = "contributor", "length", "reception"
BIRTH_YEAR, BIRTHPLACE = "birth_year", "birthplace"
FOUNDED, HEADQUARTERS = "founded", "headquarters"
# Attributes that help answer a question about a work; the others are background (distractors).
CORE_WORK_ATTRIBUTES: frozenset[str] = frozenset({YEAR, CREATOR, ORGANIZATION, PLACE, GENRE})
WORK_ATTRIBUTES: tuple[str, ...] = (YEAR, CREATOR, ORGANIZATION, PLACE, GENRE, CONTRIBUTOR, LENGTH, RECEPTION)
PERSON_ATTRIBUTES: tuple[str, ...] = (BIRTH_YEAR, BIRTHPLACE)
ORGANIZATION_ATTRIBUTES: tuple[str, ...] = (FOUNDED, HEADQUARTERS)
PERSON, ORGANIZATION_KIND = "person", "organization"


@dataclass(frozen=True)
class KindSpec:
    """How one kind of work is named and how each of its attributes can be phrased.

    Phrasings are templates: ``{y}`` a year, ``{p}`` a person, ``{o}`` an organisation, ``{pl}`` a
    place, ``{n}`` a number. ``*_vps`` are verb phrases for a subject ("was released in {y}"),
    ``*_participles`` attach to a noun ("released in {y}"), ``creator_active`` has the creator as
    subject ("{p} directed").

    Example:
        >>> KINDS["album"].creator_participles[0].format(p="Mira Ashby")
        'recorded by Mira Ashby'
    """

    name: str
    nouns: tuple[str, ...]
    year_vps: tuple[str, ...]
    year_participles: tuple[str, ...]
    creator_vps: tuple[str, ...]
    creator_participles: tuple[str, ...]
    creator_active: tuple[str, ...]
    creator_noun: str
    org_suffixes: tuple[str, ...]
    org_vps: tuple[str, ...]
    org_participles: tuple[str, ...]
    place_vps: tuple[str, ...]
    place_participles: tuple[str, ...]
    contributor_vps: tuple[str, ...]
    contributor_participles: tuple[str, ...]
    genres: tuple[str, ...]
    length_unit: str | None = None
    length_vps: tuple[str, ...] = ()
    length_range: tuple[int, int] = (0, 0)
    has_setting: bool = False  # "Where is X set?" makes sense for it
    released_by_company: bool = True  # "Which company released X?" makes sense for it


KINDS: dict[str, KindSpec] = {
    "film": KindSpec(
        name="film",
        nouns=("film", "movie"),
        year_vps=("was released in {y}", "came out in {y}", "premiered in {y}", "was first shown in {y}"),
        year_participles=("released in {y}", "first shown in {y}"),
        creator_vps=("was directed by {p}", "was made by director {p}"),
        creator_participles=("directed by {p}",),
        creator_active=("{p} directed", "{p} made"),
        creator_noun="director",
        org_suffixes=("Pictures", "Films", "Studios"),
        org_vps=("was produced by {o}", "was released by {o}", "was distributed by {o}"),
        org_participles=("produced by {o}", "distributed by {o}"),
        place_vps=("is set in {pl}", "takes place in {pl}"),
        place_participles=("set in {pl}",),
        contributor_vps=("stars {p}", "features {p} in the lead role"),
        contributor_participles=("starring {p}",),
        genres=("comedy", "drama", "thriller", "western", "horror", "romance"),
        length_unit="minutes",
        length_vps=("runs {n} minutes", "has a running time of {n} minutes"),
        length_range=(82, 165),
        has_setting=True,
    ),
    "album": KindSpec(
        name="album",
        nouns=("album", "record"),
        year_vps=("was released in {y}", "came out in {y}", "was issued in {y}"),
        year_participles=("released in {y}", "issued in {y}"),
        creator_vps=("was recorded by {p}", "is by {p}"),
        creator_participles=("recorded by {p}", "by {p}"),
        creator_active=("{p} recorded", "{p} released"),
        creator_noun="artist",
        org_suffixes=("Records", "Music"),
        org_vps=("was released on {o}", "was issued by {o}", "came out on {o}"),
        org_participles=("released on {o}", "issued by {o}"),
        place_vps=("was recorded in {pl}",),
        place_participles=("recorded in {pl}",),
        contributor_vps=("was produced by {p}",),
        contributor_participles=("produced by {p}",),
        genres=("folk", "jazz", "rock", "soul", "pop", "electronic", "blues"),
        length_unit="tracks",
        length_vps=("has {n} tracks", "contains {n} tracks"),
        length_range=(8, 18),
    ),
    "song": KindSpec(
        name="song",
        nouns=("song", "single"),
        year_vps=("was released in {y}", "came out in {y}"),
        year_participles=("released in {y}",),
        creator_vps=("was performed by {p}", "was sung by {p}", "is by {p}"),
        creator_participles=("performed by {p}", "sung by {p}", "by {p}"),
        creator_active=("{p} performed", "{p} sang", "{p} recorded"),
        creator_noun="singer",
        org_suffixes=("Records", "Music"),
        org_vps=("was released on {o}", "came out on {o}"),
        org_participles=("released on {o}",),
        place_vps=("was recorded in {pl}",),
        place_participles=("recorded in {pl}",),
        contributor_vps=("was produced by {p}", "features {p}"),
        contributor_participles=("produced by {p}", "featuring {p}"),
        genres=("folk", "jazz", "rock", "soul", "pop", "country"),
        length_unit="minutes",
        length_vps=("lasts {n} minutes", "runs {n} minutes"),
        length_range=(3, 7),
    ),
    "novel": KindSpec(
        name="novel",
        nouns=("novel", "book"),
        year_vps=("was published in {y}", "came out in {y}", "first appeared in {y}"),
        year_participles=("published in {y}", "first published in {y}"),
        creator_vps=("was written by {p}", "is by {p}"),
        creator_participles=("written by {p}", "by {p}"),
        creator_active=("{p} wrote", "{p} penned"),
        creator_noun="author",
        org_suffixes=("Press", "Books", "Publishing"),
        org_vps=("was published by {o}", "was brought out by {o}"),
        org_participles=("published by {o}",),
        place_vps=("is set in {pl}", "takes place in {pl}"),
        place_participles=("set in {pl}",),
        contributor_vps=("was illustrated by {p}", "was translated by {p}"),
        contributor_participles=("illustrated by {p}",),
        genres=("mystery", "fantasy", "romance", "thriller", "adventure", "satire"),
        length_unit="pages",
        length_vps=("has {n} pages", "runs to {n} pages"),
        length_range=(180, 720),
        has_setting=True,
    ),
    "TV series": KindSpec(
        name="TV series",
        nouns=("TV series", "television series", "show"),
        year_vps=("premiered in {y}", "first aired in {y}", "debuted in {y}"),
        year_participles=("first aired in {y}", "premiering in {y}"),
        creator_vps=("was created by {p}",),
        creator_participles=("created by {p}",),
        creator_active=("{p} created",),
        creator_noun="creator",
        org_suffixes=("Broadcasting", "Network"),
        org_vps=("aired on {o}", "was broadcast by {o}"),
        org_participles=("broadcast by {o}",),
        place_vps=("is set in {pl}", "takes place in {pl}"),
        place_participles=("set in {pl}",),
        contributor_vps=("stars {p}", "was hosted by {p}"),
        contributor_participles=("starring {p}",),
        genres=("comedy", "drama", "crime", "documentary", "sitcom"),
        length_unit="episodes",
        length_vps=("ran for {n} episodes", "has {n} episodes"),
        length_range=(6, 120),
        has_setting=True,
    ),
    "video game": KindSpec(
        name="video game",
        nouns=("video game", "game"),
        year_vps=("was released in {y}", "came out in {y}", "was launched in {y}"),
        year_participles=("released in {y}", "launched in {y}"),
        creator_vps=("was designed by {p}", "was directed by {p}"),
        creator_participles=("designed by {p}",),
        creator_active=("{p} designed",),
        creator_noun="designer",
        org_suffixes=("Games", "Interactive", "Software"),
        org_vps=("was developed by {o}", "was published by {o}"),
        org_participles=("developed by {o}",),
        place_vps=("is set in {pl}", "takes place in {pl}"),
        place_participles=("set in {pl}",),
        contributor_vps=("was scored by {p}", "has music composed by {p}"),
        contributor_participles=("scored by {p}",),
        genres=("puzzle", "platform", "racing", "strategy", "shooter", "arcade"),
        has_setting=True,
    ),
    "painting": KindSpec(
        name="painting",
        nouns=("painting", "canvas", "artwork"),
        year_vps=("was painted in {y}", "was completed in {y}", "dates from {y}"),
        year_participles=("painted in {y}", "completed in {y}"),
        creator_vps=("was painted by {p}", "is by {p}"),
        creator_participles=("painted by {p}", "by {p}"),
        creator_active=("{p} painted",),
        creator_noun="painter",
        org_suffixes=("Gallery", "Museum"),
        org_vps=("is held by the {o}", "hangs in the {o}"),
        org_participles=("held by the {o}",),
        place_vps=("was painted in {pl}",),
        place_participles=("painted in {pl}",),
        contributor_vps=("depicts {p}", "is a portrait of {p}"),
        contributor_participles=("depicting {p}",),
        genres=("landscape", "seascape", "abstract", "watercolor"),
        released_by_company=False,
    ),
}
WORK_KINDS: tuple[str, ...] = tuple(KINDS)

NUMBER_WORDS: tuple[str, ...] = ("two", "three", "four")

# Relation cues the annotator reads (lower case, one token each); the kinds' phrasings use them.
CREATOR_CUES: frozenset[str] = frozenset(
    "directed director directors directing direction helmed written wrote writer author authored novelist "
    "penned recorded performed performer performers sung sang singer artist painted painter created creator "
    "designed designer made maker direct write perform sing paint create design make".split()
)
CONTRIBUTOR_CUES: frozenset[str] = frozenset(
    "starring stars starred star actor actress lead plays played produced producer featuring features featured "
    "illustrated illustrator illustrations translated translator scored composed composer score soundtrack "
    "depicts depicting depicted portrait sitter hosted host narrated narrator produce illustrate translate "
    "compose narrate depict feature".split()
)
BIRTH_CUES: frozenset[str] = frozenset({"born"})
FOUNDED_CUES: frozenset[str] = frozenset({"founded", "established", "formed"})
HEADQUARTERS_CUES: frozenset[str] = frozenset({"based", "headquartered"})
# Other verbs of work facts: a year or place after them belongs to a work, not to a person born before.
WORK_VERB_CUES: frozenset[str] = frozenset(
    "released issued premiered debuted aired published appeared shown launched completed dates came set takes "
    "broadcast distributed developed held hangs ran runs lasts has contains received won gained brought".split()
)
# Nouns for kinds of work that English uses and the world's own text does not (the annotator reads them;
# the world never writes them): "the picture" is a film or a painting, read as whichever the answer means.
READER_KIND_NOUNS: dict[str, tuple[str, ...]] = {
    "picture": ("film", "painting"),
    "motion picture": ("film",),
    "feature film": ("film",),
    "feature": ("film",),
    "flick": ("film",),
    "lp": ("album",),
    "full-length": ("album",),
    "track": ("song",),
    "tune": ("song",),
    "programme": ("TV series",),
    "program": ("TV series",),
    "tv show": ("TV series",),
    "television show": ("TV series",),
    "television programme": ("TV series",),
    "television program": ("TV series",),
    "videogame": ("video game",),
    "computer game": ("video game",),
    "oil painting": ("painting",),
    "work of fiction": ("novel",),
}
ORGANIZATION_NOUNS: frozenset[str] = frozenset(
    "label studio company publisher network developer gallery museum broadcaster".split()
)
# Words that carry no content: a clause of only these (and names) says nothing by itself.
FUNCTION_WORDS: frozenset[str] = frozenset(
    """a an the of by in on at to and or but with from was were is are be been being as for which who whom
    whose that this these those its it his her he she him their they them there also than into about while
    when where after before between under over both either neither nor not so then however meanwhile
    additionally moreover furthermore later earlier first one same name named called titled known title
    refer refers may can several different works work another other various also still has have had
    includes include including such same while whereas although though then""".split()
)
# A clause ending in one of these was cut off ("... was directed by").
DANGLING_WORDS: frozenset[str] = frozenset(
    """a an the of by in on at to and or but with from was were is are as for which who whose that its his
    her their this these also than into about while when where after before between under over both either
    nor""".split()
)
