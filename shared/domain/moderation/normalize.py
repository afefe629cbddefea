# ruff: noqa: RUF001, RUF002, RUF003 - look-alike characters are the point of this module
"""Text normalization for matching, with a map back to the original text.

Comments are matched against *views* of the text, never the text itself, so that look-alike spellings match the
rule words while every span still points into the original. All views share one coordinate system, the
*folded* one, and :meth:`Folded.span` maps a folded span back to the original text.

- ``cased`` — every character folded to a plain look-alike, one for one: diacritics stripped (``é`` → ``e``),
  fullwidth and mathematical letters to ASCII, Cyrillic and Greek homoglyphs to Latin (``а`` → ``a``), typographic
  quotes, dashes and spaces to ASCII ones. Invisible characters (zero-width spaces and joiners, soft hyphens,
  variation selectors, loose combining marks) are deleted; only then does the offset map differ from the identity.
- ``lower`` — ``cased`` in lower case (same length: the only character whose lower case is longer, ``İ``, is folded
  to ``I`` first).
- ``leet`` — ``lower`` with digits and symbols that stand for letters (``0 1 3 4 5 7 8 9 @ $ ! |``) replaced by
  those letters where they touch a letter (``sh1t``, ``@ss``, ``a$$``), so numbers on their own (``455``,
  ``2024``) and sentence punctuation (``great!``) are left alone. ``!`` and ``|`` count only between letters.

Word-level canonical forms (separators inside words removed, repeated letters collapsed, ``l`` read as ``i``)
are computed per token by :func:`word_variants`; the engine applies the same steps to whole views as a prefilter.
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

# Look-alikes NFKD does not fold: Cyrillic and Greek letters that render like Latin ones, and a few others.
_HOMOGLYPHS = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "ԁ": "d", "ԛ": "q", "ԝ": "w",
    "ь": "b", "п": "n", "г": "r", "д": "d", "л": "n", "ц": "u", "ш": "w", "щ": "w", "ч": "y", "я": "r",
    "и": "u", "й": "u", "з": "3", "ы": "b",
    "А": "A", "В": "B", "Е": "E", "Ё": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C",
    "Т": "T", "У": "Y", "Х": "X", "Ѕ": "S", "І": "I", "Ї": "I", "Ј": "J", "Ԁ": "D", "Ԛ": "Q", "Ԝ": "W",
    # Greek
    "α": "a", "β": "b", "γ": "y", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ς": "s", "σ": "o", "μ": "u", "ϲ": "c", "ϳ": "j",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O",
    "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    # Latin oddities and symbols used as letters
    "ı": "i", "ɩ": "i", "ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ħ": "h", "ß": "s",
    "ɑ": "a", "ɡ": "g", "ʏ": "y", "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ғ": "f", "ɢ": "g",
    "ʜ": "h", "ɪ": "i", "ᴊ": "j", "ᴋ": "k", "ʟ": "l", "ᴍ": "m", "ɴ": "n", "ᴏ": "o", "ᴘ": "p", "ʀ": "r",
    "ꜱ": "s", "ᴛ": "t", "ᴜ": "u", "ᴠ": "v", "ᴡ": "w", "ᴢ": "z", "İ": "I",
    "€": "e", "£": "l", "¢": "c", "¥": "y", "©": "c", "®": "r",
    # punctuation and spaces
    "‘": "'", "’": "'", "‛": "'", "′": "'", "“": '"', "”": '"', "„": '"', "‐": "-", "‑": "-", "‒": "-",
    "–": "-", "—": "-", "―": "-", "−": "-", "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u3000": " ",
    "\u2002": " ", "\u2003": " ", "\u2009": " ", "\u200a": " ", "\u2028": "\n", "\u2029": "\n",
}  # fmt: skip

# Blocks whose characters are folded by compatibility decomposition (diacritics, fullwidth, math letters,
# enclosed letters, superscripts).
_FOLD_RANGES = (
    (0x00A0, 0x024F),  # Latin-1 supplement, Latin extended A and B
    (0x1D00, 0x1DBF),  # phonetic extensions (small capitals, modifier letters)
    (0x1E00, 0x1EFF),  # Latin extended additional (ạ, ẹ, ...)
    (0x2070, 0x209F),  # superscripts and subscripts
    (0x2100, 0x214F),  # letterlike symbols
    (0x2460, 0x24FF),  # enclosed alphanumerics (ⓐ, ①)
    (0xFF00, 0xFFEF),  # fullwidth forms
    (0x1D400, 0x1D7FF),  # mathematical alphanumeric symbols (𝐟, 𝓯, 𝕗)
    (0x1F130, 0x1F189),  # squared and negative squared letters
)

_INVISIBLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
    "\u3164\ufe00-\ufe0f\ufeff\uffa0\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
)
_INVISIBLE_RE = re.compile(f"[{_INVISIBLE}]")


def _build_fold_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for start, end in _FOLD_RANGES:
        for cp in range(start, end + 1):
            ch = chr(cp)
            base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
            if len(base) == 1 and base.isascii() and base != ch:
                table[cp] = base
    for ch, base in _HOMOGLYPHS.items():
        table[ord(ch)] = base
    # Letters of other blocks that decompose to a plain Latin letter plus marks (e.g. Cyrillic й is kept above).
    return table


_FOLD_TABLE = _build_fold_table()

_LEET_TABLE = str.maketrans("0134578@$!|9", "oieastbasiig")
# Digits and symbols standing for letters: touching a letter, or (for ! and |) between two letters.
# Not before unit and ordinal suffixes: 8th, 1st, 10am, 14yo, 80s, 5k stay numbers.
_LEET_RE = re.compile(
    r"(?<=[a-z])[0-9@$!|]+(?=[a-z])|(?<=[a-z])[013457@$]+(?![0-9])"
    r"|(?<![0-9])[0134578@$]+(?=[a-z])(?!(?:st|nd|rd|th|am|pm|s|yo|yr|yrs|y|k|m|ft|lb|lbs|min|hr|hrs|mph|gb|x)\b)"
)

# A cheap necessary condition for _LEET_RE (it starts with a character class, so ``search`` skips ahead in C).
_LEET_NEEDED_RE = re.compile(r"[0-9@$!|](?:(?<=[a-z][0-9@$])|(?<=[0-9@$])(?=[a-z])|(?<=[a-z][!|])(?=[a-z]))")
# Every byte but a-z, 0-9 and * becomes a space (non-ASCII UTF-8 bytes too, so emoji separate words).
_TOKEN_TABLE = bytes(b if (97 <= b <= 122 or 48 <= b <= 57 or b == 42) else 32 for b in range(256))


def tokens(view: str) -> list[bytes]:
    """The runs of ``[a-z0-9*]`` in a view, as bytes: ``bytes.translate`` + ``split`` run in C and are several
    times faster than ``re.findall`` on comment-sized text."""
    return view.encode().translate(_TOKEN_TABLE).split()


class Folded(NamedTuple):
    """The views of one text. ``offsets[i]`` is the original index of folded index ``i`` (None: identity).
    A named tuple: built once per comment, and the cheapest immutable record to build."""

    original: str
    cased: str
    lower: str
    leet: str
    offsets: tuple[int, ...] | None

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of the folded span ``[start, end)``."""
        if self.offsets is None or start >= end:
            return start, end
        return self.offsets[start], self.offsets[end - 1] + 1


def fold(text: str) -> Folded:
    if text.isascii():
        cased, offsets = text, None
    else:
        translated = text.translate(_FOLD_TABLE)
        if _INVISIBLE_RE.search(translated) is None:
            cased, offsets = translated, None
        else:
            keep = tuple(i for i, ch in enumerate(translated) if _INVISIBLE_RE.match(ch) is None)
            cased, offsets = "".join(translated[i] for i in keep), keep
    lower = cased.lower()
    leet = _LEET_RE.sub(_leet, lower) if _LEET_NEEDED_RE.search(lower) is not None else lower
    return Folded(text, cased, lower, leet, offsets)


def _leet(m: re.Match[str]) -> str:
    return m.group().translate(_LEET_TABLE)


def leet_letters(text: str) -> str:
    """Every leet character read as its letter (used for spaced-out words, where nothing touches a letter)."""
    return text.translate(_LEET_TABLE)


# Separators inside a word, between letters: f.u.c.k, f-u-c-k, f_u_c_k, sh.1t (by then sh.it). Apostrophes are
# not separators (don't, it's). The gate is a cheap necessary condition (it starts with a character class, so
# ``search`` skips ahead in C); the deletion keeps the letter before the separators with a group reference, which
# costs a Python call per match, but matches are rare.
WORD_SEPARATORS_RE = re.compile(r"([a-z*])[.\-_~^]+(?=[a-z*])")
WORD_SEPARATORS_GATE_RE = re.compile(r"[.\-_~^](?<=[a-z*][.\-_~^])[.\-_~^]*[a-z*]")
RUN_OF_THREE_RE = re.compile(r"([a-z])\1\1")
# Collapsing deletes every letter followed by the same letter (all runs to one), or by two more of it (runs of
# three or more to two). Written as deletions so that ``sub`` needs no template: it stays in C.
COLLAPSE_ALL_RE = re.compile(r"([a-z])(?=\1)")
COLLAPSE_LONG_RE = re.compile(r"([a-z])(?=\1\1)")


def word_variants(token: str) -> tuple[str, ...]:
    """Canonical forms of one token of the ``leet`` view, most literal first: separators removed, then runs of
    three or more letters cut to two (``asssss`` → ``ass``), then every run cut to one (``fuuuck`` → ``fuck``);
    in each, ``l`` is read as ``i`` (``1`` may stand for either)."""
    joined = WORD_SEPARATORS_RE.sub(r"\1", token).replace("l", "i")
    out = [joined]
    for candidate in (COLLAPSE_LONG_RE.sub("", joined), COLLAPSE_ALL_RE.sub("", joined)):
        if candidate not in out:
            out.append(candidate)
    return tuple(out)


def skeleton(word: str) -> str:
    """The canonical form a rule word is stored under (the same steps as a token's first variant)."""
    return fold(word).leet.replace("l", "i")
