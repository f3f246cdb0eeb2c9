"""The suite's phrasings as data: words the world never uses, numbers in words, hedges, negations,
vacuous remarks, the ten languages' templates, and the fair families' rewordings.

Everything a probe writes that is not the world's own phrasing (:mod:`fg_env.data.synthetic.phrasing`)
lives here, as tables, so a probe generator (:mod:`.probes`, :mod:`.fair`) only picks and fills.

Example:
    >>> foreign_templates("de", "film", "year")
    ('{S} {N} erschien im Jahr {v}.', '{S} {N} wurde {v} veröffentlicht.')
    >>> year_words(1994)
    'nineteen ninety-four'
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fg_env.data.synthetic import vocab
from fg_env.data.synthetic.vocab import CREATOR, ORGANIZATION, PLACE, YEAR, KindSpec
from fg_env.errors import InvalidValueError


# -- the vocabulary the world never uses ---------------------------------------------------------------
def _strings(value: object) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, (tuple, list, frozenset, set)):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, KindSpec):
        for f in dataclasses.fields(value):
            yield from _strings(getattr(value, f.name))


def _vocab_words() -> frozenset[str]:
    """Every word of every list in :mod:`vocab` (names, titles, places, companies, kinds, cues), lower case."""
    words: set[str] = set()
    for name, value in vars(vocab).items():
        if not name.startswith("_"):
            for text in _strings(value):
                words.update(re.findall(r"[a-z]+", text.lower()))
    return frozenset(words)


VOCAB_WORDS = _vocab_words()


def _unused(candidates: Sequence[str]) -> tuple[str, ...]:
    """The candidates none of whose words the world's vocabulary holds (it may grow; this keeps them apart)."""
    return tuple(c for c in candidates if not set(re.findall(r"[a-z]+", c.lower())) & VOCAB_WORDS)


UNKNOWN_FIRST_NAMES: tuple[str, ...] = _unused(
    """Jonas Harriet Ottilie Lucian Marguerite Desmond Philippa Ambrose Cressida Evander Rosalind Barnaby
    Leopold Winifred Caspian Henrietta Thaddeus Isolde Cornelius Dorothea Alaric Genevieve Bartholomew
    Esmeralda Fabian Georgina Horatio Ingrid Jerome Katrin Lucius Magdalena Nathaniel Octavia Percival
    Rosamund Sebastian Tabitha Valentin Wilhelmina Zachary Annelise Benedikt Clementine Dashiell Eloise
    Frederick Gwendolyn Hyacinth Ignacio Josephine Konrad Lavinia Maximilian Nerissa Orlando Penelope
    Reginald Seraphina Theodora Ulysses Mortimer Griselda""".split()
)
UNKNOWN_SURNAMES: tuple[str, ...] = _unused(
    """Whitfield Ashworth Blakemore Cartwright Dunleavy Ellingham Farnsworth Gilchrist Hargreaves Kettering
    Langford Merriweather Northcott Oldfield Pennington Quimby Rutherford Sinclair Thackeray Vaughan
    Wainwright Yates Aldridge Birkett Donnelly Everett Fothergill Greenhalgh Hollingsworth Illingworth
    Jellicoe Kingsley Livingstone Montague Nettleton Ogilvy Prendergast Quayle Ramsbottom Stirling
    Treadwell Underwood Villiers Wolcott Ackroyd Brocklehurst Chadwick Dinsdale Entwistle Fairbanks
    Gladstone Hetherington Isherwood Kirkpatrick Lomax Marlowe Ormerod Pilkington Radford Sheridan
    Tolliver Wetherell Crowther Bannister""".split()
)
UNKNOWN_TITLE_FIRST_WORDS: tuple[str, ...] = _unused(
    """Bitter Pale Scattered Burnt Open Lost Little Sweet Dark Lucky Gray Green Heavy Honest Jagged
    Narrow Rapid Sacred Tired Weary Yellow Bare Cold Early Faint Grand Purple Hungry Lazy""".split()
)
UNKNOWN_TITLE_SECOND_WORDS: tuple[str, ...] = _unused(
    """Moon Sky Kite Gates Swallows Tide Stone Pearl Comet Lagoon Chapel Ladder Needle Cradle Hammer Saddle
    Thistle Beacon Barrel Candle Spire Pebbles Tulips Sailors Clocks Ribbons Marbles Ashes""".split()
)
UNKNOWN_PLACES: tuple[str, ...] = _unused(
    """Norvale Ashcombe Brindlemere Caddington Durnholm Elmstead Farleigh Glenhallow Harrowgate Ilsworth
    Kelmarsh Merrowby Netherby Oxley Penhallow Rushden Stanwick Thistlecombe Ulverby Wrenfield Yelverton
    Barrowmere Eddington Fallowmere Hartwell Lindholme Marsden Quenby Selwick Tarrant Wickhollow Amberley
    Bexford Castleton Drumlow Everleigh""".split()
)
UNKNOWN_ORG_WORDS: tuple[str, ...] = _unused(
    """Harborlight Silverpine Brookstone Amberline Westwind Bluegate Clearwater Ravenwood Sunhollow Fernleaf
    Goldcrest Hillcrest Ironwood Lakeshore Marigold Nightfall Oakridge Pinewood Quicksilver Rosewater
    Stonegate Thornfield Windmill Yellowstone Bramblewood Cloudberry""".split()
)
UNKNOWN_ORG_NAMES: tuple[str, ...] = _unused(
    (
        "Blue Heron",
        "Open Road",
        "Night Owl",
        "Black Sheep",
        "Green Door",
        "Grey Gull",
        "Deep Well",
        "Red Fox",
        "Tall Tree",
        "Brass Bell",
        "White Rabbit",
        "Wise Owl",
        "Lucky Star",
        "Clay Pot",
        "Orange Grove",
    )
)


# -- numbers in words ----------------------------------------------------------------------------------
_UNITS = "zero one two three four five six seven eight nine".split()
_TEENS = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def number_words(n: int, use_and: bool = True) -> str:
    """``n`` (0 to 9999) in words, British style by default.

    Example:
        >>> number_words(102), number_words(102, use_and=False), number_words(61)
        ('one hundred and two', 'one hundred two', 'sixty-one')
    """
    if not 0 <= n <= 9999:
        raise InvalidValueError(f"number_words handles 0 to 9999, got {n}")
    if n < 10:
        return _UNITS[n]
    if n < 20:
        return _TEENS[n - 10]
    if n < 100:
        tens, unit = divmod(n, 10)
        return _TENS[tens] + (f"-{_UNITS[unit]}" if unit else "")
    big, rest, word = (n // 1000, n % 1000, "thousand") if n >= 1000 else (n // 100, n % 100, "hundred")
    head = f"{_UNITS[big]} {word}"
    if not rest:
        return head
    joiner = " and " if use_and and rest < 100 else " "
    return head + joiner + number_words(rest, use_and)


def year_words(year: int, style: int = 0) -> str:
    """A year as it is spoken; ``style`` picks among the usual ways (all read back as the same year).

    Example:
        >>> year_words(1994), year_words(2005), year_words(2005, 1), year_words(2012, 2)
        ('nineteen ninety-four', 'two thousand and five', 'two thousand five', 'twenty twelve')
    """
    century, rest = divmod(year, 100)
    if 11 <= century <= 19 and not (century == 19 and style == 3):
        if rest == 0:
            return f"{number_words(century)} hundred"
        if rest < 10:
            return f"{number_words(century)} oh {_UNITS[rest]}"
        return f"{number_words(century)} {number_words(rest)}"
    if century == 20 and rest >= 10 and style == 2:
        return f"twenty {number_words(rest)}"
    return number_words(year, use_and=style % 2 == 0)


# -- hedges, negations, vacuous sentences ------------------------------------------------------------------
HEDGES: tuple[str, ...] = (
    "Reportedly, {s}",
    "It is believed that {s}",
    "According to the passages, {s}",
    "{S}, it seems.",
    "Apparently, {s}",
    "It is said that {s}",
    "It appears that {s}",
)
DENIALS: tuple[str, ...] = ("It is not true that {s}", "It is not the case that {s}")
VACUOUS: tuple[str, ...] = (
    "Nobody really knows who was behind {N}.",
    "There is a lot that could be said about {N}.",
    "{N} is something many people have talked about.",
    "Much has been written about {N} over the years.",
    "{N} is an interesting topic.",
    "People have different opinions about {N}.",
    "{N} has been discussed by many people.",
    "There are many things to know about {N}.",
    "{N} is a name that comes up often.",
    "It is hard to say much about {N}.",
    "Many people have asked about {N}.",
    "{N} remains a popular subject of conversation.",
)
# Past and present verbs of the world's phrasings, and their negated forms.
DO_NEGATIONS: dict[str, tuple[str, ...]] = {
    "came": ("did not come", "didn't come", "never came"),
    "premiered": ("did not premiere", "didn't premiere", "never premiered"),
    "debuted": ("did not debut", "didn't debut"),
    "aired": ("did not air", "didn't air", "never aired"),
    "takes": ("does not take", "doesn't take"),
    "dates": ("does not date", "doesn't date"),
    "hangs": ("does not hang", "doesn't hang"),
}


def negations(verb_phrase: str) -> list[str]:
    """Negated forms of one of the world's verb phrases ("was released in 1994" -> "wasn't released in
    1994", ...), or [] when it has none that reads well ("first aired in 1958")."""
    head, _, rest = verb_phrase.partition(" ")
    if head == "was":
        forms = [f"was not {rest}", f"wasn't {rest}"]
        return forms if rest.startswith("first") else [*forms, f"was never {rest}"]
    if head == "is":
        return [f"is not {rest}", f"isn't {rest}"]
    return [f"{negated} {rest}" for negated in DO_NEGATIONS.get(head, ())]


# -- foreign languages and scripts --------------------------------------------------------------------------
FOREIGN_LANGUAGES: tuple[str, ...] = ("de", "fr", "es", "it", "nl")
FOREIGN_SCRIPTS: tuple[str, ...] = ("ru", "el", "zh", "ja", "ar")

# Every kind is one of three for the foreign phrasings: a work with a setting, a recording, a painting.
_KIND_GROUP: dict[str, str] = {
    "film": "setting",
    "novel": "setting",
    "TV series": "setting",
    "video game": "setting",
    "album": "recorded",
    "song": "recorded",
    "painting": "painting",
}
_KIND_ORDER = ("film", "album", "song", "novel", "TV series", "video game", "painting")
# The subject phrase naming a work of each kind (in _KIND_ORDER), per language.
FOREIGN_SUBJECTS: dict[str, dict[str, str]] = {
    language: dict(zip(_KIND_ORDER, names.split("|"), strict=True))
    for language, names in {
        "de": "Der Film|Das Album|Das Lied|Der Roman|Die Fernsehserie|Das Videospiel|Das Gemälde",
        "fr": "Le film|L'album|La chanson|Le roman|La série télévisée|Le jeu vidéo|Le tableau",
        "es": "La película|El álbum|La canción|La novela|La serie de televisión|El videojuego|El cuadro",
        "it": "Il film|L'album|La canzone|Il romanzo|La serie televisiva|Il videogioco|Il dipinto",
        "nl": "De film|Het album|Het lied|De roman|De televisieserie|Het videospel|Het schilderij",
        "ru": "Фильм|Альбом|Песня|Роман|Телесериал|Видеоигра|Картина",
        "el": "Η ταινία|Το άλμπουμ|Το τραγούδι|Το μυθιστόρημα|Η τηλεοπτική σειρά|Το βιντεοπαιχνίδι|Ο πίνακας",
        "zh": "电影|专辑|歌曲|小说|电视剧|电子游戏|画作",
        "ja": "映画|アルバム|楽曲|小説|テレビシリーズ|ビデオゲーム|絵画",
        "ar": "الفيلم|الألبوم|الأغنية|الرواية|المسلسل التلفزيوني|لعبة الفيديو|اللوحة",
    }.items()
}
# The kinds whose subject noun is feminine, where a language's endings agree with it.
_FEMININE: dict[str, frozenset[str]] = {
    "fr": frozenset({"song", "TV series"}),
    "es": frozenset({"film", "song", "novel", "TV series"}),
    "it": frozenset({"song", "TV series"}),
    "ru": frozenset({"song", "video game", "painting"}),
    "ar": frozenset({"song", "novel", "video game", "painting"}),
}
# Slots that agree with the subject's gender: slot -> (masculine or neuter, feminine).
_AGREEMENT: dict[str, dict[str, tuple[str, str]]] = {
    "fr": {"e": ("", "e")},
    "es": {"o": ("o", "a")},
    "it": {"o": ("o", "a")},
    "ru": {"was": ("был", "была"), "end": ("", "а"), "came": ("вышел", "вышла")},
    "ar": {"released": ("صدر", "صدرت"), "recorded": ("سُجل", "سُجلت")},
}
# Slots whose word depends on the kind: slot -> {kind: word}, "*" for every other kind.
_KIND_WORDS: dict[str, dict[str, dict[str, str]]] = {
    "zh": {
        "year_verb": {"film": "上映", "novel": "出版", "TV series": "首播", "video game": "发售", "*": "发行"},
        "role": {
            "film": "导演",
            "song": "演唱者",
            "album": "艺人",
            "TV series": "创作者",
            "video game": "设计师",
            "*": "作者",
        },
        "publish": {"novel": "出版", "*": "发行"},
    },
    "ja": {
        "year_verb": {
            "film": "公開された",
            "novel": "出版された",
            "TV series": "放送が始まった",
            "painting": "描かれた",
            "*": "発売された",
        },
        "publish": {"novel": "出版", "*": "発売"},
    },
}
# language -> attribute -> kind group (or "*": any other) -> templates ({S} subject, {N} name, {v}
# value, and the slots above). Names and years stay as they are. The order of each tuple matters:
# a probe picks one with its random.Random, so reordering changes the suite's cases.
FOREIGN_TEMPLATES: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {
    "de": {
        YEAR: {
            "painting": ("{S} {N} wurde {v} gemalt.", "{S} {N} entstand im Jahr {v}."),
            "*": ("{S} {N} erschien im Jahr {v}.", "{S} {N} wurde {v} veröffentlicht."),
        },
        CREATOR: {"*": ("{S} {N} stammt von {v}.", "{S} {N} wurde von {v} geschaffen.")},
        PLACE: {
            "setting": ("{S} {N} spielt in {v}.",),
            "recorded": ("{S} {N} wurde in {v} aufgenommen.",),
            "painting": ("{S} {N} wurde in {v} gemalt.",),
        },
        ORGANIZATION: {
            "painting": ("{S} {N} gehört zur Sammlung von {v}.",),
            "*": ("{S} {N} wurde von {v} veröffentlicht.",),
        },
    },
    "fr": {
        YEAR: {
            "painting": ("{S} {N} a été peint en {v}.", "{S} {N} date de {v}."),
            "*": ("{S} {N} est sorti{e} en {v}.", "{S} {N} date de {v}."),
        },
        CREATOR: {"*": ("{S} {N} est l'œuvre de {v}.", "{S} {N} a été créé{e} par {v}.")},
        PLACE: {
            "setting": ("{S} {N} se déroule à {v}.",),
            "recorded": ("{S} {N} a été enregistré{e} à {v}.",),
            "painting": ("{S} {N} a été peint à {v}.",),
        },
        ORGANIZATION: {"painting": ("{S} {N} est conservé par {v}.",), "*": ("{S} {N} a été publié{e} par {v}.",)},
    },
    "es": {
        YEAR: {
            "painting": ("{S} {N} es del año {v}.", "{S} {N} fue pintado en {v}."),
            "*": ("{S} {N} es del año {v}.", "{S} {N} fue publicad{o} en {v}."),
        },
        CREATOR: {"*": ("{S} {N} es obra de {v}.", "{S} {N} fue cread{o} por {v}.")},
        PLACE: {
            "setting": ("{S} {N} está ambientad{o} en {v}.", "{S} {N} transcurre en {v}."),
            "recorded": ("{S} {N} fue grabad{o} en {v}.",),
            "painting": ("{S} {N} fue pintado en {v}.",),
        },
        ORGANIZATION: {"painting": ("{S} {N} pertenece a {v}.",), "*": ("{S} {N} fue publicad{o} por {v}.",)},
    },
    "it": {
        YEAR: {
            "painting": ("{S} {N} è stato dipinto nel {v}.", "{S} {N} risale al {v}."),
            "*": ("{S} {N} è uscit{o} nel {v}.", "{S} {N} risale al {v}."),
        },
        CREATOR: {"*": ("{S} {N} è opera di {v}.", "{S} {N} è stat{o} realizzat{o} da {v}.")},
        PLACE: {
            "setting": ("{S} {N} è ambientat{o} a {v}.",),
            "recorded": ("{S} {N} è stat{o} registrat{o} a {v}.",),
            "painting": ("{S} {N} è stato dipinto a {v}.",),
        },
        ORGANIZATION: {
            "painting": ("{S} {N} appartiene alla collezione di {v}.",),
            "*": ("{S} {N} è stat{o} pubblicat{o} da {v}.",),
        },
    },
    "nl": {
        YEAR: {
            "painting": ("{S} {N} werd in {v} geschilderd.", "{S} {N} dateert uit {v}."),
            "*": ("{S} {N} verscheen in {v}.", "{S} {N} werd in {v} uitgebracht."),
        },
        CREATOR: {"*": ("{S} {N} is gemaakt door {v}.", "{S} {N} is een werk van {v}.")},
        PLACE: {
            "setting": ("{S} {N} speelt zich af in {v}.",),
            "recorded": ("{S} {N} werd opgenomen in {v}.",),
            "painting": ("{S} {N} werd geschilderd in {v}.",),
        },
        ORGANIZATION: {
            "painting": ("{S} {N} behoort tot de collectie van {v}.",),
            "*": ("{S} {N} werd uitgebracht door {v}.",),
        },
    },
    "ru": {
        YEAR: {"painting": ("{S} {N} была написана в {v} году.",), "*": ("{S} {N} {came} в {v} году.",)},
        CREATOR: {"*": ("Автор произведения {N} — {v}.", "Создателем произведения {N} является {v}.")},
        PLACE: {
            "setting": ("Действие произведения {N} происходит в {v}.",),
            "recorded": ("{S} {N} {was} записан{end} в {v}.",),
            "painting": ("{S} {N} была написана в {v}.",),
        },
        ORGANIZATION: {
            "painting": ("{S} {N} хранится в собрании {v}.",),
            "*": ("{S} {N} {was} выпущен{end} компанией {v}.",),
        },
    },
    "el": {
        YEAR: {"painting": ("{S} {N} ζωγραφίστηκε το {v}.",), "*": ("{S} {N} κυκλοφόρησε το {v}.",)},
        CREATOR: {"*": ("{S} {N} δημιουργήθηκε από {v}.", "Δημιουργός του έργου {N} είναι {v}.")},
        PLACE: {
            "setting": ("Η υπόθεση του έργου {N} διαδραματίζεται στο {v}.",),
            "recorded": ("{S} {N} ηχογραφήθηκε στο {v}.",),
            "painting": ("{S} {N} ζωγραφίστηκε στο {v}.",),
        },
        ORGANIZATION: {
            "painting": ("{S} {N} ανήκει στη συλλογή του {v}.",),
            "*": ("{S} {N} κυκλοφόρησε από την εταιρεία {v}.",),
        },
    },
    "zh": {
        YEAR: {"painting": ("{S}{N}创作于{v}年。",), "*": ("{S}{N}于{v}年{year_verb}。",)},
        CREATOR: {"*": ("{S}{N}的{role}是{v}。",)},
        PLACE: {
            "setting": ("{S}{N}的故事发生在{v}。",),
            "recorded": ("{S}{N}在{v}录制。",),
            "painting": ("{S}{N}在{v}创作。",),
        },
        ORGANIZATION: {"painting": ("{S}{N}由{v}收藏。",), "*": ("{S}{N}由{v}{publish}。",)},
    },
    "ja": {
        YEAR: {"*": ("{S}「{N}」は{v}年に{year_verb}。",)},
        CREATOR: {"*": ("{S}「{N}」は{v}の作品である。",)},
        PLACE: {
            "setting": ("{S}「{N}」の舞台は{v}である。",),
            "recorded": ("{S}「{N}」は{v}で録音された。",),
            "painting": ("{S}「{N}」は{v}で描かれた。",),
        },
        ORGANIZATION: {
            "painting": ("{S}「{N}」は{v}が所蔵している。",),
            "*": ("{S}「{N}」は{v}から{publish}された。",),
        },
    },
    "ar": {
        YEAR: {"painting": ("رُسمت {S} {N} عام {v}.",), "*": ("{released} {S} {N} عام {v}.",)},
        CREATOR: {"*": ("{S} {N} من إبداع {v}.",)},
        PLACE: {
            "setting": ("تدور أحداث {S} {N} في {v}.",),
            "recorded": ("{recorded} {S} {N} في {v}.",),
            "painting": ("رُسمت {S} {N} في {v}.",),
        },
        ORGANIZATION: {"painting": ("تحتفظ {v} بـ{S} {N}.",), "*": ("أصدرت شركة {v} {S} {N}.",)},
    },
}


def foreign_templates(language: str, kind: str, attribute: str) -> tuple[str, ...]:
    """The templates of :data:`FOREIGN_TEMPLATES` saying ``attribute`` of a work of ``kind``, with the
    slots that agree with the kind filled in ({S} subject, {N} name and {v} value are left).

    Example:
        >>> foreign_templates("fr", "song", "creator")
        ("{S} {N} est l'œuvre de {v}.", '{S} {N} a été créée par {v}.')
    """
    if language not in FOREIGN_TEMPLATES:
        raise InvalidValueError(f"no templates for language {language!r}")
    by_group = FOREIGN_TEMPLATES[language][attribute]
    templates = by_group.get(_KIND_GROUP[kind], by_group.get("*", ()))
    feminine = kind in _FEMININE.get(language, frozenset())
    slots = {slot: forms[feminine] for slot, forms in _AGREEMENT.get(language, {}).items()}
    for slot, words in _KIND_WORDS.get(language, {}).items():
        slots[slot] = words.get(kind, words["*"])
    # Leave {S}, {N} and {v} for the caller: they stay as they are through this first filling.
    keep = {"S": "{S}", "N": "{N}", "v": "{v}"}
    return tuple(template.format(**keep, **slots) for template in templates)


def foreign_sentence(language: str, kind: str, template: str, name: str, value: str) -> str:
    """A template of :func:`foreign_templates` filled with the subject of ``kind``, the name and value."""
    return template.format(S=FOREIGN_SUBJECTS[language][kind], N=name, v=value)


# -- the fair families: correct rewordings of a gold sentence --------------------------------------------------
ANY_FACT = "*"  # a FairPhrasing attribute that any one fact of the sentence fills


@dataclass(frozen=True)
class FairPhrasing:
    """One correct way of saying the facts of a gold sentence, for a family of the fair group.

    ``template`` is filled from the sentence's real facts (slots below). By default it writes the whole
    new sentence (or two, when it splits one); with ``replaces`` it only rewrites that part of the gold
    sentence (a date phrase, the whole sentence under a discourse marker); with ``part`` it is one
    piece the generator puts into a sentence: ``"vp"`` a verb phrase for its attribute, ``"noun"`` a
    kind noun.

    ``attributes`` are the facts it states, in its order (:data:`ANY_FACT`: any one of the sentence's
    facts); a phrasing applies to a sentence stating exactly that many facts of one work. ``kinds``
    limits it to works of those kinds (empty: every kind). ``mention`` says which sentences it fits:
    ``"first"`` ones that name the work, ``"back"`` ones that refer back to it ("It ...", "The film
    ..."), ``"any"`` both. ``merge`` phrasings replace two adjacent gold sentences about one work.

    Slots: {S}/{s} the subject as the gold sentence has it ("The film Harlow Bridge" when it names the
    work, "The film" when it refers back), {N} the name, {title} " <name>" or "", {noun} and {noun2}
    two of the kind's nouns, {y} {p} {o} {pl} the year, creator, company and place, {the_o}/{The_o}
    the company as it reads after a verb ("the Tate Gallery" for a painting), {vp1} {vp2} {vp3} the
    world's verb phrases for the facts in the phrasing's order, {pp1} {pp2} (and {Pp1} {Pp2})
    participle phrases, {vps} every verb phrase joined by "and", {made} the creator's verb
    ("directed"), {made_pp}/{Made_pp} its participle, {maker} the creator noun ("director"),
    {released}/{Released} the year participle, and :data:`FAIR_LEXICON`'s words ({release},
    {org_did}, {org_noun}, {place_noun}); {sentence} the gold sentence, {lowered} the same with a
    common first word lower-cased, {gold_noun} the kind noun the gold sentence uses.

    Example:
        >>> sorted(FairPhrasing("voice", "{p} {made} {s}.", ("creator",)).slots)
        ['made', 'p', 's']
    """

    family: str
    template: str
    attributes: tuple[str, ...]
    kinds: tuple[str, ...] = ()
    mention: str = "any"
    replaces: str = ""
    part: str = ""
    merge: bool = False

    @property
    def label(self) -> str:
        """A name unique among the phrasings, for notes and reports: the template and what sets it apart.

        Example:
            >>> FairPhrasing("synonym", "picture", ("*",), kinds=("film",), part="noun").label
            'picture [noun; film]'
        """
        tags = [t for t in (self.part, "/".join(self.kinds), "merge" if self.merge else "") if t]
        if self.replaces:
            tags.append(f"replaces {self.replaces}")
        if not self.part and not self.replaces:
            tags.insert(0, ",".join(self.attributes))
        return f"{self.template} [{'; '.join(tags)}]" if tags else self.template

    @property
    def slots(self) -> frozenset[str]:
        """The slots its template and ``replaces`` use."""
        return frozenset(re.findall(r"\{(\w+)\}", self.template + self.replaces))


# Words per kind the fair templates need and the world's KindSpec lacks: the noun of its release, the
# company's active verb and noun, the noun of its place (None: no natural one).
FAIR_LEXICON: dict[str, dict[str, str | None]] = {
    "film": {"release": "release", "org_did": "produced", "org_noun": "studio", "place_noun": "setting"},
    "album": {"release": "release", "org_did": "released", "org_noun": "label", "place_noun": "recording location"},
    "song": {"release": "release", "org_did": "released", "org_noun": "label", "place_noun": "recording location"},
    "novel": {"release": "publication", "org_did": "published", "org_noun": "publisher", "place_noun": "setting"},
    "TV series": {"release": "premiere", "org_did": "broadcast", "org_noun": "network", "place_noun": "setting"},
    "video game": {"release": "release", "org_did": "developed", "org_noun": "developer", "place_noun": "setting"},
    "painting": {"release": "completion", "org_did": "holds", "org_noun": "owner", "place_noun": None},
}

_C, _Y, _O, _P, _X = CREATOR, YEAR, ORGANIZATION, PLACE, ANY_FACT


def _family(family: str, rows: Sequence[tuple[object, ...]]) -> tuple[FairPhrasing, ...]:
    """Phrasings from rows of (template, attributes, and optional keyword settings as a dict)."""
    out = []
    for row in rows:
        template, attributes = row[0], row[1]
        options = row[2] if len(row) > 2 else {}
        assert isinstance(template, str) and isinstance(attributes, tuple) and isinstance(options, dict)
        out.append(FairPhrasing(family, template, attributes, **options))
    return tuple(out)


_VOICE = _family(
    "voice",
    [
        ("{p} {made} {s}.", (_C,)),
        ("{S} was {made_pp} by {p}.", (_C,)),
        ("{The_o} {org_did} {s}.", (_O,)),
        ("{p} {made} {s} in {y}.", (_C, _Y)),
        ("{S} was {made_pp} by {p} in {y}.", (_C, _Y)),
        ("{p} {made} {s}, and it {vp2}.", (_C, _X)),
        ("{S} {vp2}, and {p} {made} it.", (_C, _X)),
    ],
)
_ORDER = _family(
    "order",
    [
        ("{Released} in {y}, {s} {vp2}.", (_Y, _X)),
        ("{Made_pp} by {p}, {s} {vp2}.", (_C, _X)),
        ("{Pp2}, {s} {vp1}.", (_X, _X)),
        ("In {y}, {s} was {released}.", (_Y,)),
        ("It was in {y} that {s} was {released}.", (_Y,)),
        ("It was {p} who {made} {s}.", (_C,)),
        ("{S} {vp2} and {vp1}.", (_X, _X)),
        ("In {y}, {s} was {made_pp} by {p}.", (_Y, _C)),
    ],
)
_APPOSITION = _family(
    "apposition",
    [
        ("{S}, which {vp2}, {vp1}.", (_X, _X)),
        ("{S}, which {p} {made}, {vp2}.", (_C, _X)),
        ("{S}, a {noun2} that {vp2}, {vp1}.", (_X, _X)),
        ("{S}, a {noun2} by {p}, {vp2}.", (_C, _X)),
        ("{S}, a {y} {noun2}, {vp2}.", (_Y, _X)),
        ("{S} is a {noun2} that {vp1}.", (_X,), {"mention": "first"}),
        ("{S} is a {noun2} that {p} {made}.", (_C,), {"mention": "first"}),
        ("{S}, whose {maker} is {p}, {vp2}.", (_C, _X)),
    ],
)
_POSSESSIVE = _family(
    "possessive",
    [
        ("{p}'s {noun}{title} {vp2}.", (_C, _X)),
        ("{S}, {p}'s {noun2}, {vp2}.", (_C, _X)),
        ("{S}'s {maker} is {p}.", (_C,)),
        ("{p} is {s}'s {maker}.", (_C,)),
        ("{S}'s {release} was in {y}.", (_Y,)),
        ("{S}'s {org_noun} is {the_o}.", (_O,)),
        ("{S}'s {place_noun} is {pl}.", (_P,)),
        ("{S} is {p}'s {y} {noun2}.", (_Y, _C)),
    ],
)
_COORDINATION = _family(
    "coordination",
    [
        ("{S} {vp1}. It {vp2}.", (_X, _X)),
        ("{S} {vp1}. The {noun2} {vp2}.", (_X, _X)),
        ("{S} {vp1}, and it {vp2}.", (_X, _X)),
        ("{S} {vp1}; it {vp2}.", (_X, _X)),
        ("{S} {vps}.", (_X, _X), {"merge": True}),
        ("{S} {vps}.", (_X, _X, _X), {"merge": True}),
        ("{S} {vp1}, and it {vp2}.", (_X, _X), {"merge": True}),
        ("{S} {vp1} and {vp2}, and it {vp3}.", (_X, _X, _X), {"merge": True}),
    ],
)
_REFERENCE = _family(
    "reference",
    [
        ("It {vp1}.", (_X,), {"mention": "back"}),
        ("This {noun} {vp1}.", (_X,), {"mention": "back"}),
        ("That {noun} {vp1}.", (_X,), {"mention": "back"}),
        ("The {noun2} {vp1}.", (_X,), {"mention": "back"}),
        ("The {maker} was {p}.", (_C,), {"mention": "back"}),
        ("Its {maker} is {p}.", (_C,), {"mention": "back"}),
        ("Its {org_noun} is {the_o}.", (_O,), {"mention": "back"}),
        ("This {noun} {vp1} and {vp2}.", (_X, _X), {"mention": "back"}),
        ("The same {noun} {vp1}.", (_X,), {"mention": "back"}),
    ],
)
# Synonyms of each relation's verbs, per kind (verb phrases put in place of the world's), and of the
# kinds' nouns.
_SYNONYM_VPS: dict[str, dict[str, tuple[str, ...]]] = {
    "film": {
        YEAR: ("hit theaters in {y}", "opened in cinemas in {y}"),
        CREATOR: ("was helmed by {p}", "was directed by filmmaker {p}"),
        ORGANIZATION: ("was put out by {o}", "was produced by the studio {o}"),
        PLACE: ("unfolds in {pl}", "has its setting in {pl}"),
    },
    "album": {
        YEAR: ("was put out in {y}", "hit stores in {y}"),
        CREATOR: ("was made by {p}", "is the work of {p}"),
        ORGANIZATION: ("was put out by {o}", "appeared on the label {o}"),
        PLACE: ("was taped in {pl}", "was cut in {pl}"),
    },
    "song": {
        YEAR: ("was put out in {y}", "appeared in {y}"),
        CREATOR: ("was recorded by {p}", "is sung by {p}"),
        ORGANIZATION: ("was put out on {o}", "was issued on {o}"),
        PLACE: ("was cut in {pl}", "was taped in {pl}"),
    },
    "novel": {
        YEAR: ("was first printed in {y}", "hit shelves in {y}"),
        CREATOR: ("was authored by {p}", "comes from the pen of {p}"),
        ORGANIZATION: ("was put out by {o}", "was released by {o}"),
        PLACE: ("unfolds in {pl}", "has its setting in {pl}"),
    },
    "TV series": {
        YEAR: ("began airing in {y}", "first went on the air in {y}"),
        CREATOR: ("was devised by {p}", "was conceived by {p}"),
        ORGANIZATION: ("ran on {o}", "was shown on {o}"),
        PLACE: ("unfolds in {pl}", "has its setting in {pl}"),
    },
    "video game": {
        YEAR: ("hit shelves in {y}", "was first released in {y}"),
        CREATOR: ("was created by {p}", "was conceived by {p}"),
        ORGANIZATION: ("was put out by {o}", "was released by {o}"),
        PLACE: ("unfolds in {pl}", "has its setting in {pl}"),
    },
    "painting": {
        YEAR: ("was finished in {y}", "was created in {y}"),
        CREATOR: ("is the work of {p}", "was created by {p}"),
        ORGANIZATION: ("belongs to the {o}", "is in the collection of the {o}"),
        PLACE: ("was created in {pl}", "was made in {pl}"),
    },
}
_SYNONYM_NOUNS: dict[str, tuple[str, ...]] = {
    "film": ("picture", "feature film"),
    "album": ("LP", "studio album"),
    "song": ("track",),
    "TV series": ("programme", "series"),
    "video game": ("computer game",),
    "painting": ("picture",),
}
_SYNONYM = tuple(
    FairPhrasing("synonym", vp, (attribute,), kinds=(kind,), part="vp")
    for kind, by_attribute in _SYNONYM_VPS.items()
    for attribute, vps in by_attribute.items()
    for vp in vps
) + tuple(
    FairPhrasing("synonym", noun, (_X,), kinds=(kind,), part="noun")
    for kind, nouns in _SYNONYM_NOUNS.items()
    for noun in nouns
)
_DATE = _family(
    "date",
    [
        ("in the year {y}", (_Y,), {"replaces": "in {y}"}),
        ("during {y}", (_Y,), {"replaces": "in {y}"}),
        ("back in {y}", (_Y,), {"replaces": "in {y}"}),
        ("sometime in {y}", (_Y,), {"replaces": "in {y}"}),
        ("in the year of {y}", (_Y,), {"replaces": "in {y}"}),
        ("In the year {y},", (_Y,), {"replaces": "In {y},"}),
        ("Back in {y},", (_Y,), {"replaces": "In {y},"}),
        ("a {gold_noun} from {y}", (_Y,), {"replaces": "a {y} {gold_noun}"}),
        ("a {gold_noun} dating from {y}", (_Y,), {"replaces": "a {y} {gold_noun}"}),
        ("The {gold_noun} from {y}", (_Y,), {"replaces": "The {y} {gold_noun}"}),
        ("from the year {y}", (_Y,), {"replaces": "from {y}"}),
    ],
)
# A marker before a whole gold sentence, whatever facts it states (so its attributes are not checked).
_DISCOURSE = _family(
    "discourse",
    [
        (f"{marker}, {{lowered}}", (), {"replaces": "{sentence}"})
        for marker in (
            "Notably",
            "In addition",
            "However",
            "Also",
            "Moreover",
            "Furthermore",
            "In fact",
            "Indeed",
            "Additionally",
            "Interestingly",
        )
    ],
)
# Every fair phrasing, family by family. Appending is safe for the halves of the other families; the
# split of a family changes when its own list changes (see fair.split_halves).
FAIR_PHRASINGS: tuple[FairPhrasing, ...] = (
    _VOICE + _ORDER + _APPOSITION + _POSSESSIVE + _COORDINATION + _REFERENCE + _SYNONYM + _DATE + _DISCOURSE
)


# -- fresh phrasings: a third, held-out set written after the dev/held-out split ----------------------------
# Written once, without reading the annotator, as a fluent writer would put the same facts; measured as
# the "fresh" half of each family (see fair.generate_fresh_cases). None of them is in FAIR_PHRASINGS.
_NOT_PAINTING = ("film", "album", "song", "novel", "TV series", "video game")
_FRESH_VOICE = _family(
    "voice",
    [
        ("{p} was the one who {made} {s}.", (_C,)),
        ("The {maker} {p} {made} {s}.", (_C,)),
        ("{S} has {p} as its {maker}.", (_C,)),
        ("{S} was {org_did} by {the_o}.", (_O,), {"kinds": _NOT_PAINTING}),
        ("{S} {vp2}, having been {made_pp} by {p}.", (_C, _X)),
        ("{p} {made} {s}, which {vp2}.", (_C, _X)),
        ("{S} was {made_pp} by {p} and {vp2}.", (_C, _X)),
        ("{p} {made} {s}, which was {released} in {y}.", (_C, _Y)),
    ],
)
_FRESH_ORDER = _family(
    "order",
    [
        ("With {p} as its {maker}, {s} {vp2}.", (_C, _X)),
        ("The one who {made} {s} was {p}.", (_C,)),
        ("In {y}, {p} {made} {s}.", (_Y, _C)),
        ("It was in {y} that {p} {made} {s}.", (_Y, _C)),
        ("{y} saw the {release} of {s}.", (_Y,)),
        ("As for {s}, it {vp1}.", (_X,)),
        ("As for {s}, it {vp1} and {vp2}.", (_X, _X)),
    ],
)
_FRESH_APPOSITION = _family(
    "apposition",
    [
        ("{S}, {pp1}, {vp2}.", (_X, _X)),
        ("{S} is a {y} {noun2} by {p}.", (_Y, _C), {"mention": "first"}),
        ("{S} is a {noun2} from {y}.", (_Y,), {"mention": "first"}),
        ("{S} is a {noun2} {made_pp} by {p}.", (_C,), {"mention": "first"}),
        ("{S}, the work of {p}, {vp2}.", (_C, _X)),
        ("{S}, whose {release} was in {y}, {vp2}.", (_Y, _X)),
        ("{S}, {org_did} by {the_o}, {vp2}.", (_O, _X), {"kinds": _NOT_PAINTING}),
        ("{S}, a {noun2} {p} {made}, {vp2}.", (_C, _X)),
    ],
)
_FRESH_POSSESSIVE = _family(
    "possessive",
    [
        ("The {maker} of {s} is {p}.", (_C,)),
        ("The {release} of {s} came in {y}.", (_Y,)),
        ("{S} had its {release} in {y}.", (_Y,), {"kinds": ("film", "album", "song", "TV series", "video game")}),
        ("{S}'s {maker} was {p}, and it {vp2}.", (_C, _X)),
        ("{The_o} is {s}'s {org_noun}.", (_O,)),
        ("{pl} is {s}'s {place_noun}.", (_P,)),
        ("{S} is {p}'s creation.", (_C,)),
        ("The {org_noun} of {s} is {the_o}.", (_O,)),
    ],
)
_FRESH_COORDINATION = _family(
    "coordination",
    [
        ("{S} {vp1}. {p} {made} it.", (_X, _C)),
        ("{S} {vp1}. Its {maker} is {p}.", (_X, _C)),
        ("{S} {vp1}. {The_o} {org_did} it.", (_X, _O)),
        ("{S} {vp1}, with {p} as its {maker}.", (_X, _C)),
        ("{S} {vp1}. In addition, it {vp2}.", (_X, _X)),
        ("{S} {vp1}; it {vp2} and {vp3}.", (_X, _X, _X), {"merge": True}),
        ("{S} {vp1}. It {vp2} and {vp3}.", (_X, _X, _X), {"merge": True}),
        ("{S} {vp1} and {vp2}. It {vp3}.", (_X, _X, _X), {"merge": True}),
    ],
)
_FRESH_REFERENCE = _family(
    "reference",
    [
        ("The {noun2} in question {vp1}.", (_X,), {"mention": "back"}),
        ("{The_o} {org_did} the {noun2}.", (_O,), {"mention": "back"}),
        ("{The_o} {org_did} it.", (_O,), {"mention": "back"}),
        ("The aforementioned {noun2} {vp1}.", (_X,), {"mention": "back"}),
        ("Its {place_noun} is {pl}.", (_P,), {"mention": "back"}),
        (
            "{pl} is where the {noun2} is set.",
            (_P,),
            {"mention": "back", "kinds": ("film", "novel", "TV series", "video game")},
        ),
        ("The work {vp1}.", (_X,), {"mention": "back"}),
        ("This one {vp1}.", (_X,), {"mention": "back"}),
    ],
)
_FRESH_SYNONYM = tuple(
    FairPhrasing("synonym", vp, (attribute,), kinds=(kind,), part="vp")
    for kind, attribute, vp in (
        ("film", YEAR, "reached cinemas in {y}"),
        ("film", ORGANIZATION, "came from the studio {o}"),
        ("album", ORGANIZATION, "was issued by {o}"),
        ("song", YEAR, "was issued in {y}"),
        ("novel", CREATOR, "was penned by {p}"),
        ("novel", PLACE, "plays out in {pl}"),
        ("TV series", CREATOR, "is the brainchild of {p}"),
        ("video game", YEAR, "shipped in {y}"),
        ("painting", CREATOR, "came from the brush of {p}"),
    )
) + (FairPhrasing("synonym", "motion picture", (_X,), kinds=("film",), part="noun"),)
_FRESH_DATE = _family(
    "date",
    [
        ("in the course of {y}", (_Y,), {"replaces": "in {y}"}),
        ("at some point during {y}", (_Y,), {"replaces": "in {y}"}),
        ("during the year {y}", (_Y,), {"replaces": "in {y}"}),
        ("During {y},", (_Y,), {"replaces": "In {y},"}),
        ("Sometime in {y},", (_Y,), {"replaces": "In {y},"}),
        ("a {gold_noun} of {y}", (_Y,), {"replaces": "a {y} {gold_noun}"}),
        ("a {gold_noun} from the year {y}", (_Y,), {"replaces": "a {y} {gold_noun}"}),
    ],
)
_FRESH_DISCOURSE = _family(
    "discourse",
    [
        *(
            (f"{marker}, {{lowered}}", (), {"replaces": "{sentence}"})
            for marker in (
                "As it turns out",
                "On top of that",
                "What is more",
                "Remarkably",
                "As it happens",
                "Besides",
                "Beyond that",
                "Importantly",
                "Incidentally",
            )
        ),
        ("It is worth noting that {lowered}", (), {"replaces": "{sentence}"}),
    ],
)
# The fresh phrasings, family by family (each family's own "fresh" half; they never enter the dev/held-out split).
FRESH_PHRASINGS: tuple[FairPhrasing, ...] = (
    _FRESH_VOICE
    + _FRESH_ORDER
    + _FRESH_APPOSITION
    + _FRESH_POSSESSIVE
    + _FRESH_COORDINATION
    + _FRESH_REFERENCE
    + _FRESH_SYNONYM
    + _FRESH_DATE
    + _FRESH_DISCOURSE
)
