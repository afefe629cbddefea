# ruff: noqa: RUF001 - disguised spellings use look-alike characters on purpose
"""The engine: each category, disguised spellings, Scunthorpe negatives, spans into the original text,
context (repetition), determinism."""

from __future__ import annotations

import pytest

from shared.domain.moderation import Action, Category, ModerationContext, engine, strongest_action
from shared.domain.moderation.normalize import fold


def _rules(text: str, context: ModerationContext | None = None) -> set[str]:
    return {m.rule_id for m in engine.moderate(text, context)}


@pytest.mark.parametrize(
    ("text", "category", "action"),
    [
        ("this is fucking ridiculous", Category.OBSCENE_PROFANE_SEXUAL, Action.HIDE),
        ("free porn at my link", Category.OBSCENE_PROFANE_SEXUAL, Action.HIDE),
        ("the 7th grade girls are so sexy", Category.SEXUAL_CONTENT_MINORS, Action.CRITICAL),
        ("I will shoot up the school on monday", Category.THREATS_INCITEMENT, Action.CRITICAL),
        ("kill yourself", Category.THREATS_INCITEMENT, Action.CRITICAL),
        ("you f@ggot", Category.HARASSMENT_DISCRIMINATION, Action.HIDE),
        ("go back to your country", Category.HARASSMENT_DISCRIMINATION, Action.HIDE),
        ("her number is 555-234-5678", Category.PRIVATE_INFORMATION, Action.HIDE),
        ("email him: coach.b@gmail.com", Category.PRIVATE_INFORMATION, Action.HIDE),
        ("the principal lives at 42 Elm Street", Category.PRIVATE_INFORMATION, Action.HIDE),
        ("the kid named Tyler in 3rd period", Category.PRIVATE_INFORMATION, Action.REVIEW),
        ("hmu for carts", Category.ILLEGAL_ACTIVITY, Action.HIDE),
        ("work from home and earn $300 a day", Category.COMMERCIAL_SPAM, Action.HIDE),
        ("Vote yes on Measure X", Category.POLITICAL_CAMPAIGNING, Action.HIDE),
        ("Vote for Smith!", Category.POLITICAL_CAMPAIGNING, Action.HIDE),
        ("this photo is copyright infringement", Category.COPYRIGHT_TRADEMARK, Action.REVIEW),
        ("copy and paste this to your wall", Category.OFF_TOPIC, Action.REVIEW),
        ("my stepdad hits me", Category.SAFETY_DISCLOSURE, Action.CRITICAL),
    ],
)
def test_each_category_is_found_with_its_action(text: str, category: Category, action: Action) -> None:
    matches = engine.moderate(text)
    assert any(m.category is category and m.action is action for m in matches), matches


@pytest.mark.parametrize(
    "text",
    [
        "sh1t",
        "$h!t",
        "f.u.c.k",
        "f u c k",
        "F   U   C   K",
        "f-u-c-k-i-n-g idiots",
        "fuuuuuuck",
        "f*ck",
        "f**k",
        "fu\u0441k",  # Cyrillic es
        "ｆｕｃｋ",  # fullwidth
        "f\u200bu\u200bc\u200bk",  # zero-width spaces
        "fu\u00adck",  # soft hyphen
        "fück",
        "fu\u0308ck",  # combining diaeresis
        "𝐟𝐮𝐜𝐤",  # mathematical bold
        "ΒΙΤCΗ",  # Greek capitals
        "a$$hole",
        "b!tch",
        "motherf*ckers",
        "BULLSHIT!!!",
    ],
)
def test_disguised_profanity_is_found(text: str) -> None:
    assert "profanity" in _rules(text)


@pytest.mark.parametrize(
    "text",
    [
        "Scunthorpe",
        "class",
        "classes",
        "assessment",
        "assassin",
        "Sussex",
        "Essex",
        "Middlesex",
        "cocktail",
        "therapist",
        "grape",
        "shiitake",
        "shitake",
        "analysis",
        "pass",
        "passed",
        "button",
        "hello",
        "Hancock",
        "Cockburn",
        "Penistone",
        "cumulative",
        "summa cum laude",
        "Dick's Sporting Goods",
        "Moby Dick",
        "Fukushima",
        "snigger",
        "Niger",
        "Nigeria",
        "raccoon",
        "spicy",
        "sextant",
        "Arsenal",
        "bass",
        "titmouse",
        "Matsushita",
        "hoedown",
        "scrap",
        "shitzu",
        "document",
        "peacock",
        "butter",
        "assume",
        "I have 455 students",
        "class of 2024",
        "the 3 r d grade",
        "a b c",
        "U S A",
        "K 12",
    ],
)
def test_ordinary_words_are_not_matched(text: str) -> None:
    assert engine.moderate(text) == []


def test_spans_point_into_the_original_text() -> None:
    # Given disguises that change lengths during normalisation (zero-width, combining marks, spaced letters)
    text = "Hi 👋 — this is f\u200bu\u200bc\u200bk\u200bing nonsense, and so is the s h i t you posted. fu\u0308ck."
    # When moderated
    matches = engine.moderate(text)
    # Then every span slices the original text to the matched text
    assert [m.text for m in matches] == ["f\u200bu\u200bc\u200bk\u200bing", "s h i t", "fu\u0308ck"]
    for m in matches:
        assert text[m.start : m.end] == m.text
        assert m.span == (m.start, m.end)


def test_fold_maps_offsets_through_deletions() -> None:
    folded = fold("a\u200bb\u0301c")
    assert folded.cased == "abc"
    assert folded.span(1, 3) == (2, 5)


def test_a_match_carries_everything_a_case_needs() -> None:
    (match,) = engine.moderate("what a load of bullshit")
    assert match.rule_id == "profanity"
    assert match.category is Category.OBSCENE_PROFANE_SEXUAL
    assert match.action is Action.HIDE
    assert (match.start, match.end, match.text) == (15, 23, "bullshit")
    assert 0 < match.confidence <= 1
    assert match.ruleset_version == engine.ruleset().version
    assert match.citation.document == "004"
    assert "profane" in match.citation.quote
    assert match.as_dict()["span"] == [15, 23]


def test_disguised_spellings_lower_the_confidence() -> None:
    (plain,) = engine.moderate("shit")
    (disguised,) = engine.moderate("sh1t")
    assert disguised.confidence < plain.confidence


def test_content_involving_minors_is_flagged_sensitive() -> None:
    matches = engine.moderate("anyone got nudes of the cheerleaders")
    assert matches
    assert all(m.sensitive for m in matches if m.category is Category.SEXUAL_CONTENT_MINORS)
    assert not any(m.sensitive for m in engine.moderate("bullshit"))


def test_strongest_action_orders_critical_over_hide_over_review() -> None:
    matches = engine.moderate("you piece of shit, I know where you live")
    assert strongest_action(matches) is Action.CRITICAL
    assert strongest_action(engine.moderate("copyright infringement")) is Action.REVIEW
    assert strongest_action([]) is None


def test_repetition_needs_the_same_authors_history() -> None:
    spam = "Check the new schedule everyone, the district hid it on page 40"
    # Given the same comment twice before / When moderated with that history / Then repetition is flagged
    history = ModerationContext(prior_texts=[spam, spam.upper() + "!!", "Go Tigers!"])
    matches = [m for m in engine.moderate(spam, history) if m.rule_id == "spam-repetition"]
    assert len(matches) == 1
    assert matches[0].action is Action.REVIEW
    assert (matches[0].start, matches[0].end) == (0, len(spam))
    # Without history, or with only one earlier copy, nothing
    assert "spam-repetition" not in _rules(spam)
    assert "spam-repetition" not in _rules(spam, ModerationContext(prior_texts=[spam]))
    # Short comments are never repetition
    assert "spam-repetition" not in _rules("Thank you!", ModerationContext(prior_texts=["Thank you!"] * 5))


def test_the_district_can_publish_its_own_contact_details() -> None:
    text = open_ruleset_with_public_contacts()
    moderator = engine.compile_ruleset(text)
    assert moderator.moderate("write to board@myschools.org or call 555-234-5678") == []
    assert [m.rule_id for m in moderator.moderate("write to jane.doe@gmail.com")] == ["email-address"]


def open_ruleset_with_public_contacts() -> str:
    from pathlib import Path

    rules = Path(engine.__file__).with_name("rules.toml").read_text(encoding="utf-8")
    rules = rules.replace(
        "options = { public_numbers = [] }", 'options = { public_numbers = ["555-234-5678"] }'
    )
    return rules.replace(
        "options = { public_domains = [] }", 'options = { public_domains = ["myschools.org"] }'
    )


def test_the_result_is_deterministic() -> None:
    text = "F U C K this, vote yes on measure b, call 555-234-5678, s.h.i.t, I will kill you"
    first = engine.moderate(text)
    engine.default_moderator.cache_clear()
    again = [engine.moderate(text) for _ in range(3)]
    assert all(result == first for result in again)
    assert [m.start for m in first] == sorted(m.start for m in first)
    assert {m.rule_id for m in first} >= {
        "profanity",
        "campaign-ballot-measure",
        "phone-number",
        "threat-violence",
    }


def test_empty_and_odd_input() -> None:
    assert engine.moderate("") == []
    assert engine.moderate("   ") == []
    assert engine.moderate("😀😀😀") == []
    assert engine.moderate("x" * 5000) == []
