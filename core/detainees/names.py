"""Name normalisation and search keys, for Arabic and Latin script alike.

A name is reduced to a *consonant skeleton* that both scripts share: vowels (and the letters
that Latin uses for them: w, y, ou) are dropped, digraphs map to one symbol (ch/sh → X,
kh → K, gh → G, dj/j/g → j, q/k/c → k but c before e/i → s, th → t, dh → d), doubled letters
are single, a final h is dropped (Fatima / Fatimah / فاطمة). Arabic letters map to the same
symbols after the usual normalisation (أ إ آ → ا, ة → ه, ى → ي, diacritics and tatweel
removed). Articles (El, Al, L-, Es-, Et-, ال, assimilated as in Lamrani or Ettazi) and compound
particles (Ben, Ait, Abd, Bou…) are handled by indexing every word both with and without them,
so "Ben Jelloun", "Benjelloun" and "بنجلون" share keys. A *coarse* key (t/s and d/z merged)
catches th/t/s spellings (Othmane / Osman / عثمان).

Each key has a weight (whole word 3, without article/particle 2, coarse 1). The keys find the
candidates (an indexed table, see :mod:`core.detainees.search`); :func:`similarity` ranks them
by pairing the query's words with the name's, comparing consonant skeletons and — in the same
script — the vowelled spelling, so the exact spelling wins over a variant, and a variant over
another person sharing one of the names.
"""

from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher
from functools import lru_cache

from unidecode import unidecode

# Bump when the keys computed below change: `idmaj db upgrade` then rebuilds every stored key.
# 3: pair keys (every two keys of a person together) so that two common words stay selective.
KEYS_VERSION = 3

ARABIC_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")

_ARABIC_MAP = {
    "ا": "",
    "ء": "",
    "ئ": "",
    "ؤ": "",
    "ع": "",
    "و": "",
    "ي": "",
    "ى": "",
    "ب": "b",
    "ت": "t",
    "ث": "t",
    "ج": "j",
    "ح": "h",
    "خ": "K",
    "د": "d",
    "ذ": "d",
    "ر": "r",
    "ز": "z",
    "س": "s",
    "ش": "X",
    "ص": "s",
    "ض": "d",
    "ط": "t",
    "ظ": "z",
    "غ": "G",
    "ف": "f",
    "ق": "k",
    "ك": "k",
    "ل": "l",
    "م": "m",
    "ن": "n",
    "ه": "h",
    "ة": "h",
    "پ": "b",
    "ڤ": "f",
    "گ": "j",
    "ڭ": "j",
}

_LATIN_DIGRAPHS = [
    ("sch", "X"),
    ("ch", "X"),
    ("sh", "X"),
    ("kh", "K"),
    ("gh", "G"),
    ("dj", "j"),
    ("th", "t"),
    ("dh", "d"),
    ("ph", "f"),
    ("ck", "k"),
    ("ou", ""),
    ("qu", "k"),
]
_LATIN_SINGLE = {
    "a": "",
    "e": "",
    "i": "",
    "o": "",
    "u": "",
    "y": "",
    "w": "",
    "q": "k",
    "c": "k",
    "g": "j",
    "v": "f",
    "p": "b",
    "x": "ks",
}

# articles written apart, hyphenated or glued
LATIN_ARTICLES = (
    "el",
    "al",
    "ul",
    "l",
    "es",
    "et",
    "en",
    "er",
    "ed",
    "ez",
    "ech",
    "ad",
    "as",
    "at",
    "an",
    "ar",
)
ARABIC_ARTICLE = "ال"
# particles that form compound names with the next word
LATIN_PARTICLES = (
    "ben",
    "bin",
    "ibn",
    "ait",
    "abd",
    "abdel",
    "abdul",
    "abdal",
    "bou",
    "bu",
    "ould",
    "oulad",
    "moulay",
    "sidi",
    "lalla",
    "bel",
)
ARABIC_PARTICLES = (
    "بن",
    "ابن",
    "ايت",
    "عبد",
    "بو",
    "ولد",
    "اولاد",
    "مولاي",
    "سيدي",
    "لالة",
    "لاله",
)

_ARABIC_RANGE = re.compile("[\u0600-\u06ff]")
_SOFT_C = re.compile("c(?=[eiy])")
_TOKEN_SPLIT = re.compile(r"[\s\-_'’`.,;/]+")


def is_arabic(text: str) -> bool:
    return bool(_ARABIC_RANGE.search(text or ""))


def normalize_arabic(text: str) -> str:
    """Alef forms → ا, ة → ه, ى → ي, diacritics and tatweel removed."""
    text = ARABIC_DIACRITICS.sub("", text or "")
    text = re.sub("[أإآٱ]", "ا", text)
    return text.replace("ة", "ه").replace("ى", "ي")


def normalize_latin(text: str) -> str:
    """Lower case, accents removed (Aïcha → aicha)."""
    text = unicodedata.normalize("NFKC", text or "")
    return unidecode(text).lower()


def normalize(text: str) -> str:
    """Both scripts' normalisation, for exact comparisons and display-independent matching."""
    out = []
    for token in tokens(text):
        out.append(token)
    return " ".join(out)


def tokens(text: str) -> list[str]:
    text = text or ""
    if is_arabic(text):
        text = normalize_arabic(text)
        # Latin letters mixed in are normalised too
        text = "".join(ch if _ARABIC_RANGE.match(ch) else normalize_latin(ch) for ch in text)
    else:
        text = normalize_latin(text)
    return [t for t in _TOKEN_SPLIT.split(text) if t and any(ch.isalpha() for ch in t)]


def skeleton(token: str) -> str:
    """The consonant skeleton of one normalised token, Arabic or Latin."""
    if is_arabic(token):
        chars = [_ARABIC_MAP.get(ch, "") if not ch.isascii() else ch for ch in token]
        raw = "".join(chars)
        if token.endswith(("ه", "ة")) and raw.endswith("h") and len(raw) > 1:
            raw = raw[:-1]
    else:
        word = re.sub("[^a-z]", "", token)
        if word.endswith("h") and len(word) > 2 and word[-2] in "aeiouy":
            word = word[:-1]
        for src, dst in _LATIN_DIGRAPHS:
            word = word.replace(src, dst)
        word = _SOFT_C.sub("s", word)  # Lahcen, Naciri: c before e/i/y is s
        raw = "".join(_LATIN_SINGLE.get(ch, ch) for ch in word)
    out: list[str] = []
    for ch in raw:
        if not out or out[-1] != ch:
            out.append(ch)
    return "".join(out)


def _strip_article(token: str) -> str | None:
    if is_arabic(token):
        if token.startswith(ARABIC_ARTICLE) and len(token) > 3:
            return token[2:]
        return None
    for art in sorted(LATIN_ARTICLES, key=len, reverse=True):
        if token.startswith(art) and len(token) > len(art) + 2:
            rest = token[len(art) :]
            # "lamrani" = l + amrani; "ettazi" = et + tazi (assimilated article doubles the letter)
            if art == "l" and rest[0] not in "aeiou":
                continue
            if art in ("es", "et", "en", "er", "ed", "ez") and rest[0] != art[-1]:
                continue
            return rest
    return None


def _is_article(token: str) -> bool:
    return token in LATIN_ARTICLES or token == ARABIC_ARTICLE


def _is_particle(token: str) -> bool:
    return token in LATIN_PARTICLES or token in ARABIC_PARTICLES


def merged_tokens(text: str) -> list[str]:
    """Tokens with separate articles dropped into the next word and particles joined to it."""
    raw = tokens(text)
    out: list[str] = []
    i = 0
    while i < len(raw):
        tok = raw[i]
        if _is_article(tok) and i + 1 < len(raw):
            i += 1
            tok = raw[i]
            tok = ARABIC_ARTICLE + tok if is_arabic(tok) else "el" + tok
        elif _is_particle(tok) and i + 1 < len(raw):
            nxt = raw[i + 1]
            if _is_article(nxt) and i + 2 < len(raw):
                tok = tok + nxt + raw[i + 2]
                out.append(raw[i + 2])
                i += 2
            else:
                out.append(nxt)
                tok = tok + nxt
                i += 1
        out.append(tok)
        i += 1
    return out


def compound_tokens(text: str) -> list[str]:
    """The name's words with articles and particles glued on ("Ben Jelloun" → "benjelloun"),
    without the extra stripped copies :func:`merged_tokens` adds for indexing."""
    raw = tokens(text)
    out: list[str] = []
    i = 0
    while i < len(raw):
        tok = raw[i]
        if _is_article(tok) and i + 1 < len(raw):
            i += 1
            tok = (ARABIC_ARTICLE if is_arabic(raw[i]) else "el") + raw[i]
        elif _is_particle(tok) and i + 1 < len(raw):
            if _is_article(raw[i + 1]) and i + 2 < len(raw):
                tok = tok + raw[i + 1] + raw[i + 2]
                i += 2
            else:
                tok = tok + raw[i + 1]
                i += 1
        out.append(tok)
        i += 1
    return out


# --------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------

#: how much a matching key says: the whole word's skeleton, the word without its article or
#: particle, or only the coarse skeleton (th/t/s and d/z merged: Othmane ≈ Osman)
WEIGHT_FULL = 3
WEIGHT_PART = 2
WEIGHT_COARSE = 1
KEY_MAX = 60
_COARSE = str.maketrans({"t": "s", "d": "z"})


def coarse(skel: str) -> str:
    """A coarser skeleton: t/s (ت ث ط س ص) and d/z (د ذ ض ز ظ) fall together, so that
    Othmane / Osman / عثمان or Ramadan / Ramazan share a key."""
    out: list[str] = []
    for ch in skel.translate(_COARSE):
        if not out or out[-1] != ch:
            out.append(ch)
    return "".join(out)


def _particle_rest(token: str) -> str | None:
    particles = ARABIC_PARTICLES if is_arabic(token) else LATIN_PARTICLES
    for part in sorted(particles, key=len, reverse=True):
        if token.startswith(part) and len(token) > len(part) + 2:
            return token[len(part) :]
    return None


def weighted_token_keys(token: str) -> dict[str, int]:
    """The keys under which one token is indexed or searched, each with its weight."""
    out: dict[str, int] = {}

    def add(key: str, weight: int) -> None:
        key = key[:KEY_MAX]
        if key and out.get(key, 0) < weight:
            out[key] = weight

    add(skeleton(token), WEIGHT_FULL)
    stripped = _strip_article(token)
    if stripped:
        add(skeleton(stripped), WEIGHT_PART)
    rest = _particle_rest(token)
    if rest:
        add(skeleton(rest), WEIGHT_PART)
        inner = _strip_article(rest)
        if inner:
            add(skeleton(inner), WEIGHT_PART)
    for key in list(out):
        add(coarse(key), WEIGHT_COARSE)
    if not out:
        # a name without consonants (Aya, Oui…): the normalised word itself
        letters = "".join(ch for ch in token if ch.isalpha())
        if letters:
            add("=" + letters, WEIGHT_FULL)
    return out


def token_keys(token: str) -> set[str]:
    """The keys under which one token is indexed (with and without article/particle)."""
    return set(weighted_token_keys(token))


#: between the two halves of a pair key (never inside a word's key: tokens split on spaces)
PAIR_SEPARATOR = " "


def pair_key(a: str, b: str) -> str | None:
    """The pair key of two different keys (``None`` for the same key): a person holding keys
    ``a`` and ``b`` holds ``pair_key(a, b)`` too, so that two common words (a first name and a
    family name each shared by thousands) are found together by one index range over exactly
    the people who have both, ranked by the two keys' weights."""
    if a == b:
        return None
    lo, hi = (a, b) if a < b else (b, a)
    return (lo + PAIR_SEPARATOR + hi)[:KEY_MAX]


def name_keys(*names: str) -> set[str]:
    """Every search key of a person's names (any script): the words' keys, and a pair key for
    every two of them (:func:`pair_key`)."""
    keys: set[str] = set()
    for name in names:
        for tok in merged_tokens(name or ""):
            keys |= token_keys(tok)
    ordered = sorted(keys)
    pairs = {
        (lo + PAIR_SEPARATOR + hi)[:KEY_MAX]
        for i, lo in enumerate(ordered)
        for hi in ordered[i + 1 :]
    }
    return keys | pairs


def weighted_query_keys(query: str) -> list[dict[str, int]]:
    """One ``{key: weight}`` per word of a search query (empty words dropped)."""
    out = []
    for tok in compound_tokens(query):
        if any(ch.isdigit() for ch in tok):
            continue  # a registration number or id card, not a name
        keys = weighted_token_keys(tok)
        if keys:
            out.append(keys)
    return out


def query_token_keys(query: str) -> list[set[str]]:
    """One key set per word of a search query."""
    return [set(keys) for keys in weighted_query_keys(query)]


# --------------------------------------------------------------------------------------------
# Ranking
# --------------------------------------------------------------------------------------------

_FINE_LATIN = [
    ("sch", "X"),
    ("ch", "X"),
    ("sh", "X"),
    ("dj", "j"),
    ("ou", "u"),
    ("oo", "u"),
    ("ee", "i"),
    ("w", "u"),
    ("q", "k"),
    ("ck", "k"),
    ("c", "k"),
    ("y", "i"),
]


def _dedouble(text: str) -> str:
    out: list[str] = []
    for ch in text:
        if not out or out[-1] != ch:
            out.append(ch)
    return "".join(out)


@lru_cache(maxsize=65536)
def _fine(token: str) -> str:
    """A spelling-close form with the vowels kept: the finer half of the comparison."""
    if is_arabic(token):
        return _dedouble(token)
    word = re.sub("[^a-z]", "", token)
    if word.endswith("h") and len(word) > 2 and word[-2] in "aeiouy":
        word = word[:-1]
    word = _SOFT_C.sub("s", word)
    for src, dst in _FINE_LATIN:
        word = word.replace(src, dst)
    return _dedouble(word)


@lru_cache(maxsize=65536)
def _skeleton(token: str) -> str:
    return skeleton(token)


@lru_cache(maxsize=65536)
def _key_set(token: str) -> frozenset[str]:
    return frozenset(weighted_token_keys(token))


def _ratio(a: str, b: str) -> float:
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


@lru_cache(maxsize=262144)
def token_similarity(a: str, b: str) -> float:
    """0..1: how close two normalised words are (same script: consonants and vowels; across
    scripts: consonant skeletons only)."""
    if a == b:
        return 1.0
    ka, kb = _key_set(a), _key_set(b)
    if not ka or not kb:
        return 0.0
    base_a, base_b = _bases(a), _bases(b)
    if {_skeleton(x) for x in base_a} & {_skeleton(y) for y in base_b}:
        cons = 1.0  # the same word, with or without its article (El Idrissi, Idrissi)
    elif ka & kb:
        cons = 0.95  # with or without a particle (Ben Jelloun, Jelloun), or th/t/s
    else:
        # no key in common: a different word; the skeletons alone say how far it is
        return 0.8 * _ratio(_skeleton(a), _skeleton(b))
    if is_arabic(a) != is_arabic(b):
        return 0.9 * cons
    fine = max(_ratio(_fine(x), _fine(y)) for x in base_a for y in base_b)
    return 0.6 * cons + 0.4 * fine


@lru_cache(maxsize=65536)
def _bases(token: str) -> tuple[str, ...]:
    """The word, and the word without its article when it has one."""
    stripped = _strip_article(token)
    return (token, stripped) if stripped else (token,)


@lru_cache(maxsize=65536)
def _name_tokens(text: str) -> tuple[str, ...]:
    return tuple(compound_tokens(text))


def _name_similarity(query: tuple[str, ...], name: tuple[str, ...]) -> float:
    if not query or not name:
        return 0.0
    used: set[int] = set()
    total = 0.0
    for q in query:
        best, best_i = 0.0, -1
        for i, n in enumerate(name):
            s = token_similarity(q, n)
            if i in used:
                s *= 0.8  # one word of the name should not answer two words of the query
            if s > best:
                best, best_i = s, i
        total += best
        if best_i >= 0:
            used.add(best_i)
    coverage = len(used) / len(name)
    return 0.85 * (total / len(query)) + 0.15 * coverage


@lru_cache(maxsize=65536)
def _similarity(query: str, names: tuple[str, ...]) -> float:
    q = _name_tokens(query)
    return max((_name_similarity(q, _name_tokens(n)) for n in names if n), default=0.0)


def similarity(query: str, *names: str) -> float:
    """0..1: how closely a query matches a person's names (ranking among candidates): each
    query word is paired with its closest word of the name (the best of the Latin and the
    Arabic writing), and words of the name left unmatched lower the score a little."""
    return _similarity(query or "", tuple(n for n in names if n))
