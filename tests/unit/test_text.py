"""Folding for search and redaction: one definition, two forms that agree."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shared.domain.search import normalize
from shared.domain.text import fold, fold_with_origin


@given(st.text())
def test_both_forms_fold_alike_and_every_folded_character_has_an_origin(text: str) -> None:
    folded, origin = fold_with_origin(text)
    assert folded == fold(text)
    assert len(origin) == len(folded)
    assert origin == sorted(origin)
    assert all(0 <= i < len(text) for i in origin)


def test_case_and_accents_fold_away() -> None:
    assert fold("Bóñd ÉCOLE Straße") == "bond ecole strasse"
    assert normalize("  Vote  NO on\tthe BÓND ") == "vote no on the bond"
    folded, origin = fold_with_origin("Zoë")
    assert (folded, origin) == ("zoe", [0, 1, 2])
