"""Audit anchors: the chain heads copied to write-once storage. Pure logic, no AWS.

Each anchor document lists every chain's head (seq and hash) and names the anchor before it with that
object's SHA-256, the way CloudTrail digest files chain to each other. Verification reads the *original*
version of every anchor (Object Lock keeps it) and reports anchors that were overwritten by a newer version,
hidden by a delete marker, or are missing from the sequence.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.domain.audit import AnchoredHead, ChainHead, canonical_json, format_time

ANCHOR_PREFIX = "anchors/"


class AnchorLink(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    key: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class AnchorHead(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    chain: int = Field(ge=0)
    seq: int = Field(ge=0)
    hash: str = Field(pattern=r"^[0-9a-f]{64}$")


class AnchorDocument(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    version: Literal[1] = 1
    anchored_at: str
    organization: str
    reason: str
    previous: AnchorLink | None
    chains: list[AnchorHead]

    def to_bytes(self) -> bytes:
        return canonical_json(self.model_dump(mode="json"))


def anchor_key(at: datetime, unique: str) -> str:
    """Keys sort by time, so listing them gives the anchors in the order they were written."""
    stamp = format_time(at).replace("-", "").replace(":", "")
    return f"{ANCHOR_PREFIX}{stamp[:4]}/{stamp}-{unique}.json"


_ANCHOR_KEY = re.compile(r"^anchors/\d{4}/\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{12}\.json$")


def is_anchor_key(key: str) -> bool:
    """Whether ``key`` has the shape ``anchor_key`` gives (anything else under the prefix is a stray object)."""
    return _ANCHOR_KEY.match(key) is not None


def anchored_at_of(key: str) -> datetime:
    """The time an anchor key was made for (the inverse of ``anchor_key``)."""
    stamp = key.rsplit("/", 1)[-1].split("-", 1)[0]
    return datetime.strptime(stamp, "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=UTC)


def new_anchor(
    *,
    at: datetime,
    organization: str,
    reason: str,
    previous: AnchorLink | None,
    heads: Sequence[ChainHead],
) -> AnchorDocument:
    return AnchorDocument(
        anchored_at=format_time(at),
        organization=organization,
        reason=reason,
        previous=previous,
        chains=[AnchorHead(chain=h.chain, seq=h.seq, hash=h.hash) for h in heads],
    )


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class StoredAnchor(BaseModel):
    """One anchor key as found in the bucket: its original bytes and what happened to it since."""

    key: str
    original: bytes
    versions: int
    hidden: bool


class AnchorProblem(BaseModel):
    kind: Literal["anchor_overwritten", "anchor_hidden", "anchor_missing", "anchor_unreadable"]
    anchor: str
    message: str


class AnchorReport(BaseModel):
    count: int
    latest: str | None
    problems: list[AnchorProblem]


def check_anchors(stored: Sequence[StoredAnchor]) -> tuple[AnchorReport, dict[int, list[AnchoredHead]]]:
    """Check the anchors themselves and return, per chain, the heads they recorded."""
    problems: list[AnchorProblem] = []
    by_chain: dict[int, list[AnchoredHead]] = {}
    digests = {a.key: sha256(a.original) for a in stored}
    for anchor in stored:
        if anchor.versions > 1:
            problems.append(
                AnchorProblem(
                    kind="anchor_overwritten",
                    anchor=anchor.key,
                    message=f"anchor {anchor.key} has {anchor.versions} versions; only the first is trusted",
                )
            )
        if anchor.hidden:
            problems.append(
                AnchorProblem(
                    kind="anchor_hidden",
                    anchor=anchor.key,
                    message=f"anchor {anchor.key} was hidden behind a delete marker",
                )
            )
        try:
            doc = AnchorDocument.model_validate_json(anchor.original)
        except ValueError:
            problems.append(
                AnchorProblem(
                    kind="anchor_unreadable", anchor=anchor.key, message=f"anchor {anchor.key} is unreadable"
                )
            )
            continue
        if doc.previous is not None and digests.get(doc.previous.key) != doc.previous.sha256:
            problems.append(
                AnchorProblem(
                    kind="anchor_missing",
                    anchor=doc.previous.key,
                    message=f"anchor {anchor.key} follows {doc.previous.key}, which is missing or different",
                )
            )
        for head in doc.chains:
            if head.seq > 0:
                by_chain.setdefault(head.chain, []).append(
                    AnchoredHead(anchor=anchor.key, anchored_at=doc.anchored_at, seq=head.seq, hash=head.hash)
                )
    report = AnchorReport(count=len(stored), latest=stored[-1].key if stored else None, problems=problems)
    return report, by_chain
