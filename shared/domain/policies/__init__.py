"""The board policies Steward's rules come from, kept in the project (pure domain, packaged data only).

Every rule and requirement that comes from a policy cites it as a :class:`Citation` ``(document, section,
quote)``: ``document`` is a stable id from ``policies.toml`` ("004"), ``section`` says where in it ("Procedure
4007, User-generated Content"), and ``quote`` is a short phrase of the policy's own words. :func:`resolve` checks
that the document exists and that the quote is in its text (runs of whitespace count as one space). The rule set
and the disclosure text check their citations when they are loaded, and the tests check every one; a citation
kept in a record (a moderation case) is not checked again when it is read, so records made under an earlier
wording stay readable.

The texts are the public documents as published; ``policies.toml`` pins each by SHA-256, so a changed text is
refused until the index is updated on purpose.
"""

from __future__ import annotations

import functools
import hashlib
import re
import tomllib
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field

INDEX_FILE = "policies.toml"
_SPACE = re.compile(r"\s+")


class PolicyError(ValueError):
    """A policy document or a citation of one that does not resolve."""


class PolicyDocument(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^\d{3}$")
    title: str = Field(min_length=3)
    adopted_by: str = Field(min_length=3)
    year: int = Field(ge=1900, le=2100)
    text: str = Field(pattern=r"^\d{3}\.txt$", description="the file beside the index holding the text")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


def _squash(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


@functools.cache
def documents() -> dict[str, PolicyDocument]:
    """The policy index, by stable id."""
    root = resources.files(__package__)
    data = tomllib.loads(root.joinpath(INDEX_FILE).read_text(encoding="utf-8"))
    docs = [PolicyDocument.model_validate(entry) for entry in data.get("document", [])]
    by_id = {doc.id: doc for doc in docs}
    if len(by_id) != len(docs):
        raise PolicyError(f"{INDEX_FILE} names a document id twice")
    return by_id


@functools.cache
def text(document: str) -> str:
    """The document's text with runs of whitespace made one space (its pinned hash checked first)."""
    doc = document_of(document)
    raw = resources.files(__package__).joinpath(doc.text).read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != doc.sha256:
        raise PolicyError(
            f"policy {doc.id}: {doc.text} has SHA-256 {digest}, but {INDEX_FILE} pins {doc.sha256}"
        )
    return _squash(raw.decode("utf-8"))


def document_of(document: str) -> PolicyDocument:
    try:
        return documents()[document]
    except KeyError:
        known = ", ".join(sorted(documents()))
        raise PolicyError(f"no policy document {document!r} (known: {known})") from None


def resolve(document: str, quote: str) -> PolicyDocument:
    """The cited document, if ``quote`` is its own words; :class:`PolicyError` saying what is wrong otherwise."""
    doc = document_of(document)
    if _squash(quote) not in text(doc.id):
        raise PolicyError(f"the quote is not in policy {doc.id} ({doc.title}): {quote!r}")
    return doc


class Citation(BaseModel):
    """A policy cited by its stable id, where in it, and its own words."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    document: str = Field(min_length=1, description="the policy's stable id (policies.toml)")
    section: str = Field(default="", description="where in the document")
    quote: str = Field(min_length=8, description="the policy's own words, verbatim")

    def check(self) -> PolicyDocument:
        """The cited document, if the quote is its words; :class:`PolicyError` otherwise."""
        return resolve(self.document, self.quote)

    @property
    def source(self) -> str:
        return f"policy {self.document}, {self.section}" if self.section else f"policy {self.document}"
