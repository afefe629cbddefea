"""Redaction on export: the rules, the patterns, the markers and the log."""

from __future__ import annotations

from itertools import pairwise

import pytest

from shared.domain.redaction import (
    DEFAULT_EXEMPTIONS,
    Category,
    Redaction,
    RedactionRules,
    marker,
    redact,
    rules,
)
from shared.errors import BadRequest

ALL = rules(["phone", "email", "address", "name"], names=["Ana López", "Bo Chen"])


def run(text: str, rr: RedactionRules = ALL) -> tuple[str, list[Redaction]]:
    return redact(text, rr, item="facebook:1:2", field="text")


def found(text: str, category: str) -> list[str]:
    _, log = run(text, rules([category], names=["Ana López"] if category == "name" else ()))
    return [text[r.start : r.end] for r in log]


# ------------------------------------------------------------------------------------------------ rules
def test_rules_defaults_and_order() -> None:
    rr = rules(["name", "phone", "phone"], names=["Bo Chen", " Bo  Chen "])
    assert rr.categories == (Category.PHONE, Category.NAME)
    assert rr.names == ("Bo Chen",)
    assert rr.exemptions == dict(DEFAULT_EXEMPTIONS)
    assert "RCW 42.56.230(1)" in rr.exemptions[Category.PHONE]
    assert "directory information" in rr.exemptions[Category.NAME]


def test_rules_exemption_override() -> None:
    rr = rules(["email"], exemptions={"email": "RCW 42.56.250"})
    assert rr.exemptions[Category.EMAIL] == "RCW 42.56.250"
    assert rr.exemptions[Category.PHONE] == DEFAULT_EXEMPTIONS[Category.PHONE]


@pytest.mark.parametrize(
    ("categories", "names", "exemptions", "message"),
    [
        (["fax"], (), None, "unknown redaction category"),
        (["name"], (), None, "needs a list of names"),
        (["phone"], ["Bo Chen"], None, "not selected"),
        (["name"], ["A"], None, "2 to 100"),
        (["name"], ["x" * 101], None, "2 to 100"),
        (["name"], ["--"], None, "no letters"),
        (["name"], [f"Student {i}" for i in range(501)], None, "at most 500"),
        (["email"], (), {"fax": "x"}, "unknown redaction category"),
        (["email"], (), {"email": "  "}, "empty"),
    ],
)
def test_rules_rejects(
    categories: list[str], names: list[str], exemptions: dict[str, str] | None, message: str
) -> None:
    with pytest.raises(BadRequest, match=message):
        rules(categories, names, exemptions)


def test_marker_cites_exemption() -> None:
    assert marker(Category.PHONE, "RCW 42.56.230(1)") == "[REDACTED phone — RCW 42.56.230(1)]"


# ------------------------------------------------------------------------------------------------ patterns
@pytest.mark.parametrize(
    "phone",
    ["360-555-0142", "(360) 555 0142", "(360)555-0142", "+1 360.555.0142", "3605550142", "1-360-555-0142"],
)
def test_phone_matches(phone: str) -> None:
    assert found(f"Call {phone}, please.", "phone") == [phone]


@pytest.mark.parametrize(
    "text",
    [
        "Meeting on 2026-03-14 at 7.",
        "Budget 12345678 approved.",
        "Order 123605550142 shipped",
        "ISBN 978-3-16-148410-0",
        "Room 555-0142",
        "Vote 1000000000",
    ],
)
def test_phone_ignores_dates_and_numbers(text: str) -> None:
    assert found(text, "phone") == []


@pytest.mark.parametrize("email", ["jane.doe@example.org", "j+tag@mail.k12.wa.us", "José@example.com"])
def test_email_matches(email: str) -> None:
    assert found(f"Write to {email}.", "email") == [email]


@pytest.mark.parametrize("text", ["@district on Twitter", "price 5@ea", "user@localhost", "a @ b.com"])
def test_email_negatives(text: str) -> None:
    assert found(text, "email") == []


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("He lives at 123 Main St near the park.", "123 Main St"),
        ("Send it to 4500 Martin Luther King Jr Way.", "4500 Martin Luther King Jr Way."),
        ("at 12 5th Avenue NE, Apt 4B today", "12 5th Avenue NE, Apt 4B"),
        ("at 77 Oak Ln, Olympia, WA 98501 today", "77 Oak Ln, Olympia, WA 98501"),
        ("at 9 N Elm Blvd.", "9 N Elm Blvd."),
        ("at 310 Cedar Court", "310 Cedar Court"),
    ],
)
def test_address_matches(text: str, address: str) -> None:
    assert found(text, "address") == [address]


@pytest.mark.parametrize(
    "text",
    ["Practice 3 times a week.", "We won 3 games on the road", "Grade 5 street safety", "Main St is closed"],
)
def test_address_negatives(text: str) -> None:
    assert found(text, "address") == []


def test_names_case_and_accent_insensitive_with_original_span() -> None:
    text = "Thanks ANA LOPEZ and ana  lópez and Ana Lo\u0301pez!"
    _, log = run(text, rules(["name"], names=["Ana López"]))
    assert [text[r.start : r.end] for r in log] == ["ANA LOPEZ", "ana  lópez", "Ana Lo\u0301pez"]


def test_names_on_word_boundaries_only() -> None:
    assert found("Banana Lopezes and Ana Lopez-Smith", "name") == ["Ana Lopez"]
    assert found("Susana Lopez", "name") == []


# ------------------------------------------------------------------------------------------------ redact
def test_redact_replaces_and_logs() -> None:
    text = "Ana López (360-555-0142, ana@example.org) lives at 123 Main St."
    original = str(text)
    out, log = run(text)
    assert text == original
    assert [(r.category, text[r.start : r.end]) for r in log] == [
        (Category.NAME, "Ana López"),
        (Category.PHONE, "360-555-0142"),
        (Category.EMAIL, "ana@example.org"),
        (Category.ADDRESS, "123 Main St."),
    ]
    assert all(r.item == "facebook:1:2" and r.field == "text" for r in log)
    assert all(r.exemption == ALL.exemptions[r.category] for r in log)
    assert out == (
        f"{marker(Category.NAME, ALL.exemptions[Category.NAME])} "
        f"({marker(Category.PHONE, ALL.exemptions[Category.PHONE])}, "
        f"{marker(Category.EMAIL, ALL.exemptions[Category.EMAIL])}) lives at "
        f"{marker(Category.ADDRESS, ALL.exemptions[Category.ADDRESS])}"
    )
    for name in ("Ana", "López", "555", "example", "Main"):
        assert name not in out


def test_overlaps_merged_earliest_wins() -> None:
    text = "Ana lopez@example.org wrote"
    out, log = run(text, rules(["email", "name"], names=["Ana Lopez"]))
    assert len(log) == 1
    assert (log[0].category, text[log[0].start : log[0].end]) == (Category.NAME, "Ana lopez@example.org")
    assert out == marker(Category.NAME, DEFAULT_EXEMPTIONS[Category.NAME]) + " wrote"


def test_spans_non_overlapping_and_sorted() -> None:
    text = "Bo Chen, 360 555 0142; Bo Chen, bo@x.org; Main St at 5 Main St"
    _, log = run(text)
    assert [text[r.start : r.end] for r in log] == [
        "Bo Chen",
        "360 555 0142",
        "Bo Chen",
        "bo@x.org",
        "5 Main St",
    ]
    assert all(a.end <= b.start for a, b in pairwise(log))


def test_unicode_text_spans() -> None:
    text = "🎉 Félicitations, Bo Chen! 📞 +1 (360) 555-0142 — 日本語"
    out, log = run(text)
    assert [text[r.start : r.end] for r in log] == ["Bo Chen", "+1 (360) 555-0142"]
    assert out.startswith("🎉 Félicitations, [REDACTED name")
    assert out.endswith("] — 日本語")


def test_no_categories_returns_text_unchanged() -> None:
    text = "Ana López, 360-555-0142, ana@example.org, 123 Main St"
    assert run(text, rules([])) == (text, [])
    assert run("", ALL) == ("", [])
