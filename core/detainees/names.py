"""Name normalisation and search keys, for Arabic and Latin script alike.

A name is reduced to a *consonant skeleton* that both scripts share: vowels (and the letters
that Latin uses for them: w, y, ou) are dropped, digraphs map to one symbol (ch/sh → X,
kh → K, gh → G, dj/j/g → j, q/k/c → k, th → t, dh → d), doubled letters are single, a final h
is dropped (Fatima / Fatimah / فاطمة). Arabic letters map to the same symbols after the usual
normalisation (أ إ آ → ا, ة → ه, ى → ي, diacritics and tatweel removed). Articles (El, Al, L-,
Es-, Et-, ال) and compound particles (Ben, Ait, Abd, Bou…) are handled by indexing every token
both with and without them, so "Ben Jelloun", "Benjelloun" and "بنجلون" share keys.

The skeleton finds candidates; :func:`similarity` ranks them.
"""

from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher

from unidecode import unidecode

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
        text = "".join(normalize_latin(ch) if ch.isascii() else ch for ch in text)
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


def token_keys(token: str) -> set[str]:
    """The skeletons under which one token is indexed (with and without article/particle)."""
    keys = {skeleton(token)}
    stripped = _strip_article(token)
    if stripped:
        keys.add(skeleton(stripped))
    particles = ARABIC_PARTICLES if is_arabic(token) else LATIN_PARTICLES
    for part in sorted(particles, key=len, reverse=True):
        if token.startswith(part) and len(token) > len(part) + 2:
            rest = token[len(part) :]
            keys.add(skeleton(rest))
            inner = _strip_article(rest)
            if inner:
                keys.add(skeleton(inner))
            break
    return {k for k in keys if len(k) >= 1}


def name_keys(*names: str) -> set[str]:
    """Every search key of a person's names (any script)."""
    keys: set[str] = set()
    for name in names:
        for tok in merged_tokens(name):
            keys |= token_keys(tok)
    return keys


def query_token_keys(query: str) -> list[set[str]]:
    """One key set per token of a search query."""
    return [token_keys(tok) for tok in merged_tokens(query)]


def similarity(query: str, *names: str) -> float:
    """0..1: how closely a query matches a person's names (ranking among candidates)."""
    q = " ".join(skeleton(t) for t in merged_tokens(query))
    best = 0.0
    for name in names:
        if not name:
            continue
        n = " ".join(skeleton(t) for t in merged_tokens(name))
        best = max(best, SequenceMatcher(None, q, n).ratio())
    return best
