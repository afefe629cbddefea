"""Audit anchors in the write-once bucket (S3 Object Lock, COMPLIANCE)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shared import catalogue
from shared.domain.anchor import (
    ANCHOR_PREFIX,
    AnchorDocument,
    AnchorLink,
    StoredAnchor,
    is_anchor_key,
    sha256,
)
from shared.errors import Unavailable
from shared.settings import get_settings
from shared.store import aws

BUCKET = "audit-anchors"


class AnchorStore:
    def __init__(self) -> None:
        self.bucket = get_settings().bucket_name(BUCKET)
        self.retention = timedelta(days=catalogue.bucket(BUCKET).default_retention_days or 3653)

    def put(self, key: str, document: AnchorDocument, at: datetime) -> AnchorLink:
        body = document.to_bytes()
        try:
            aws.s3().put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType="application/json",
                ChecksumAlgorithm="SHA256",
                ObjectLockMode="COMPLIANCE",
                ObjectLockRetainUntilDate=at + self.retention,
                IfNoneMatch="*",
            )
        except (ClientError, BotoCoreError) as exc:
            raise Unavailable("the audit anchor could not be written") from exc
        return AnchorLink(key=key, sha256=sha256(body))

    def _listing(self) -> tuple[dict[str, list[dict[str, Any]]], set[str]]:
        """Every key under the anchor prefix with its versions (newest first), and the keys now hidden."""
        versions: dict[str, list[dict[str, Any]]] = defaultdict(list)
        hidden: set[str] = set()
        pages = (
            aws.s3().get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=ANCHOR_PREFIX)
        )
        for page in pages:
            for v in page.get("Versions", []):
                versions[v["Key"]].append(dict(v))
            for marker in page.get("DeleteMarkers", []):
                if marker.get("IsLatest"):
                    hidden.add(marker["Key"])
        return versions, hidden

    def _original(self, key: str, versions: list[dict[str, Any]]) -> bytes:
        # S3 lists a key's versions newest first: the original, the one Object Lock protects, is the last.
        body = aws.s3().get_object(Bucket=self.bucket, Key=key, VersionId=versions[-1]["VersionId"])["Body"]
        return bytes(body.read())

    def all(self) -> list[StoredAnchor]:
        """Every object under the anchor prefix in key (time) order, each read at its original version."""
        try:
            versions, hidden = self._listing()
            return [
                StoredAnchor(
                    key=key,
                    original=self._original(key, versions[key]),
                    versions=len(versions[key]),
                    hidden=key in hidden,
                )
                for key in sorted(versions)
            ]
        except (ClientError, BotoCoreError) as exc:
            raise Unavailable("the audit anchors could not be read") from exc

    def latest(self) -> AnchorLink | None:
        """The newest well-named anchor (a stray object under the prefix is never linked to); reads one object."""
        try:
            versions, _ = self._listing()
            keys = sorted(k for k in versions if is_anchor_key(k))
            if not keys:
                return None
            return AnchorLink(key=keys[-1], sha256=sha256(self._original(keys[-1], versions[keys[-1]])))
        except (ClientError, BotoCoreError) as exc:
            raise Unavailable("the audit anchors could not be read") from exc
