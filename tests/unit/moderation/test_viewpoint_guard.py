"""Viewpoint guard: criticism of the district, however sharp, is never a ground for moderation.

policy 004: "The district will not, however, remove otherwise permissible comments based on the
user's viewpoint on a topic or issue raised by the district."
"""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.domain.moderation import engine

CORPUS = Path(__file__).with_name("viewpoint_corpus.txt")


def _criticism() -> list[str]:
    lines = CORPUS.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def test_the_corpus_is_large_and_varied() -> None:
    comments = _criticism()
    assert len(comments) >= 60
    assert len(set(comments)) == len(comments)
    assert any(c.isupper() for c in comments)  # shouting is in it


@pytest.mark.parametrize("comment", _criticism())
def test_criticism_produces_no_match(comment: str) -> None:
    # Given sharp criticism with no other violation / When moderated / Then nothing matches
    assert engine.moderate(comment) == []


def test_criticism_with_a_violation_is_flagged_only_for_the_violation() -> None:
    # Given criticism that also contains a phone number
    text = "The board is clueless. Call the superintendent at home: 555-234-5678"
    # When moderated
    matches = engine.moderate(text)
    # Then only the phone number is cited, and its span is the number
    assert [m.rule_id for m in matches] == ["phone-number"]
    assert text[matches[0].start : matches[0].end] == "555-234-5678"
