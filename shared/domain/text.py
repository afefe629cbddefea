"""Case- and accent-folding, defined once for keyword search and name redaction: Unicode NFKD, combining marks
dropped, case folded ("Bóñd" and "BOND" fold to "bond").

:func:`fold` folds a whole text at C speed (search folds every version it reads); :func:`fold_with_origin` also
says which original character each folded one came from, so a match in the folded text maps back to a span of
the original (redaction). Both give the same text (``tests/unit/test_text.py``).
"""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def fold_with_origin(text: str) -> tuple[str, list[int]]:
    """The folded text, and for each of its characters the index of the original character it came from."""
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        for part in unicodedata.normalize("NFKD", ch):
            if unicodedata.combining(part):
                continue
            for folded in part.casefold():
                out.append(folded)
                origin.append(i)
    return "".join(out), origin
