"""The board policies kept in the project: every citation of them resolves, and a changed text is noticed."""

from __future__ import annotations

import hashlib
from importlib import resources

import pytest
from pydantic import ValidationError

from shared.domain import policies
from shared.domain.accounts import DisclosureItem, default_config
from shared.domain.moderation import engine


def test_the_index_pins_each_text_it_names() -> None:
    docs = policies.documents()
    assert sorted(docs) == ["000", "001", "002", "003", "004"]
    root = resources.files(policies.__name__)
    for doc in docs.values():
        raw = root.joinpath(doc.text).read_bytes()
        assert hashlib.sha256(raw).hexdigest() == doc.sha256, doc.id
        assert len(policies.text(doc.id)) > 1000, doc.id


def test_every_citation_in_the_project_resolves() -> None:
    cited = [(c.document, c.quote) for rule in engine.load_ruleset().rules for c in rule.citations]
    config = default_config()
    cited += [(d.citation.document, d.citation.quote) for d in config.disclosures.values()]
    cited.append((config.unofficial.citation.document, config.unofficial.citation.quote))
    assert len(cited) > 30
    for document, quote in cited:
        policies.resolve(document, quote)
    # Every policy is the source of at least one rule or requirement except 002 (the ownership of accounts,
    # served by the credential vault, quotes no single phrase in a data file).
    assert {d for d, _ in cited} >= {"000", "001", "003", "004"}


def test_the_disclosures_say_where_they_come_from() -> None:
    contact = default_config().disclosures[DisclosureItem.CONTACT]
    assert contact.citation.source == "policy 001, AR 1114 item 8"


@pytest.mark.parametrize(
    ("document", "quote", "error"),
    [
        ("004", "The district will remove any comment it dislikes", "the quote is not in policy 004"),
        ("005", "Threats are taken seriously", "no policy document '005'"),
    ],
)
def test_a_citation_that_does_not_resolve_names_what_is_wrong(document: str, quote: str, error: str) -> None:
    with pytest.raises(policies.PolicyError, match=error):
        policies.resolve(document, quote)


def test_whitespace_in_a_quote_is_not_significant() -> None:
    assert policies.resolve("004", "If a site   is\nabandoned,  it should be taken down.").id == "004"


def test_a_citation_kept_in_a_record_stays_readable_when_the_policies_change() -> None:
    """Cases store the citation of the rule that opened them: one made under an earlier file name or wording is
    read back as it was; only the published rules and requirements are checked against today's texts."""
    stored = {"document": "004_1100858cc2216502.txt", "section": "4007", "quote": "words since reworded"}
    citation = policies.Citation.model_validate(stored)
    assert citation.model_dump() == stored
    with pytest.raises(policies.PolicyError, match="no policy document"):
        citation.check()


def test_a_disclosure_citation_that_does_not_resolve_is_refused_on_load() -> None:
    config = default_config().model_dump(mode="json")
    config["disclosures"]["contact"]["citation"]["quote"] = "The district will remove any comment it dislikes"
    with pytest.raises(ValidationError, match="the quote is not in policy 001"):
        type(default_config()).model_validate(config)
