"""The published rule file: schema, citations that quote the policies verbatim, its own examples, versions."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from shared.domain import policies
from shared.domain.moderation import Action, Category, RuleSetError, engine
from shared.domain.moderation.schema import parse_ruleset

RULES = Path(engine.__file__).with_name("rules.toml")
RULESET = engine.load_ruleset()


def _rules_with(kind: str) -> list[tuple[str, str]]:
    return [(r.id, text) for r in RULESET.rules for text in getattr(r, kind)]


def test_the_rule_set_has_a_version_and_every_policy_ground() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", RULESET.version)
    assert engine.ruleset().version == RULESET.version
    assert {r.category for r in RULESET.rules} == set(Category)
    actions = {r.category: r.action for r in RULESET.rules}
    assert actions[Category.THREATS_INCITEMENT] is Action.CRITICAL
    assert actions[Category.SEXUAL_CONTENT_MINORS] is Action.CRITICAL
    assert actions[Category.SAFETY_DISCLOSURE] is Action.CRITICAL
    assert actions[Category.COPYRIGHT_TRADEMARK] is Action.REVIEW
    assert actions[Category.OFF_TOPIC] is Action.REVIEW


def test_every_rule_cites_a_policy_and_says_what_it_does() -> None:
    for rule in RULESET.rules:
        assert rule.citations, rule.id
        assert rule.description, rule.id
        assert rule.title, rule.id
        assert rule.examples or rule.detector == "repetition", f"{rule.id} has no examples"


def test_every_citation_quotes_its_policy_verbatim() -> None:
    for rule in RULESET.rules:
        for citation in rule.citations:
            document = policies.resolve(citation.document, citation.quote)
            assert document.id == citation.document, rule.id
            assert " ".join(citation.quote.split()) in policies.text(citation.document), rule.id


def test_a_citation_that_does_not_resolve_is_refused_on_load() -> None:
    quote = RULESET.rules[0].citations[0].quote
    with pytest.raises(RuleSetError, match="the quote is not in policy"):
        parse_ruleset(RULES.read_text(encoding="utf-8").replace(quote, quote + " and more words", 1))
    with pytest.raises(RuleSetError, match="no policy document '009'"):
        parse_ruleset(RULES.read_text(encoding="utf-8").replace('document = "004"', 'document = "009"', 1))


@pytest.mark.parametrize(("rule_id", "example"), _rules_with("examples"))
def test_each_example_matches_its_rule(rule_id: str, example: str) -> None:
    assert rule_id in {m.rule_id for m in engine.moderate(example)}


@pytest.mark.parametrize(("rule_id", "example"), _rules_with("counter_examples"))
def test_each_counter_example_does_not_match_its_rule(rule_id: str, example: str) -> None:
    assert rule_id not in {m.rule_id for m in engine.moderate(example)}


def test_the_packaged_file_is_what_is_loaded_and_published() -> None:
    published = engine.ruleset()
    assert published == parse_ruleset(RULES.read_text(encoding="utf-8"))
    assert published.ruleset.viewpoint_neutrality
    assert "political_campaigning" in published.notes
    assert "scunthorpe" in published.notes
    # The whole rule set serialises for an API that publishes it.
    assert published.model_dump(mode="json")["rules"][0]["id"] == published.rules[0].id


# ----------------------------------------------------------------------------------------- malformed files
def _mutated(change: dict[str, Any], index: int = 2) -> str:
    data = tomllib.loads(RULES.read_text(encoding="utf-8"))
    rule = data["rules"][index]
    for key, value in change.items():
        if value is None:
            rule.pop(key, None)
        else:
            rule[key] = value
    return _dump(data)


def _dump(data: dict[str, Any]) -> str:
    """A minimal TOML writer for the rule file's shapes (tables, arrays of tables, strings, lists, numbers)."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return repr(v)
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + "}"
        raise TypeError(type(v))

    out = []
    for table in ("ruleset", "notes", "allowlist"):
        out.append(f"[{table}]")
        out.extend(f"{k} = {value(v)}" for k, v in data[table].items())
    for rule in data["rules"]:
        out.append("[[rules]]")
        out.extend(f"{k} = {value(v)}" for k, v in rule.items())
    return "\n".join(out) + "\n"


def test_the_writer_round_trips_the_real_file() -> None:
    assert parse_ruleset(_mutated({})) == RULESET


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"action": "delete"}, "action"),
        ({"category": "rudeness"}, "category"),
        ({"citations": []}, "citations"),
        ({"words": ["Bad Word"]}, "lower-case word"),
        ({"patterns": ["(unclosed"], "anchors": ["x"]}, "not a valid regular expression"),
        ({"patterns": ["(capture)"], "anchors": ["x"]}, "capturing group"),
        ({"phrases": ["kill [you]"]}, "phrase"),
        (
            {"detector": "mind_reader", "words": None, "stems": None, "phrases": None, "patterns": None},
            "detector",
        ),
        ({"confidence": 1.5}, "confidence"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_a_malformed_rule_gives_a_clear_error_naming_the_rule(change: dict[str, Any], message: str) -> None:
    rule_id = RULESET.rules[2].id
    with pytest.raises(RuleSetError) as caught:
        parse_ruleset(_mutated(change))
    assert f"rule {rule_id!r} (rules[2])" in caught.value.message
    assert message in caught.value.message
    assert caught.value.details["rule"] == rule_id


def test_a_rule_without_an_id_is_named_by_position() -> None:
    with pytest.raises(RuleSetError, match=r"rules\[2\] \(no id\)"):
        parse_ruleset(_mutated({"id": None}))


def test_duplicate_ids_are_refused() -> None:
    with pytest.raises(RuleSetError, match="repeats the id"):
        parse_ruleset(_mutated({"id": RULESET.rules[0].id}))


def test_unknown_detector_options_are_refused() -> None:
    index = next(i for i, r in enumerate(RULESET.rules) if r.detector == "phone_number")
    with pytest.raises(RuleSetError, match="has no option 'public_phones'"):
        engine.compile_ruleset(_mutated({"options": {"public_phones": []}}, index))


def test_invalid_toml_and_a_bad_version_are_refused() -> None:
    with pytest.raises(RuleSetError, match="not valid TOML"):
        parse_ruleset("[ruleset\nversion = ")
    text = RULES.read_text(encoding="utf-8").replace('version = "1.0.0"', 'version = "one"', 1)
    with pytest.raises(RuleSetError, match="version"):
        parse_ruleset(text)


def test_matches_carry_the_version_of_the_rule_set_that_produced_them() -> None:
    text = RULES.read_text(encoding="utf-8").replace('version = "1.0.0"', 'version = "9.9.9"', 1)
    moderator = engine.compile_ruleset(text)
    (match,) = moderator.moderate("what a load of bullshit")
    assert match.ruleset_version == "9.9.9"
    assert engine.moderate("what a load of bullshit")[0].ruleset_version == RULESET.version
