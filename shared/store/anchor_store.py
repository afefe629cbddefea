"""Audit anchors in the write-once bucket (S3 Object Lock, COMPLIANCE)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shared import catalogue
from shared.domain.anchor import ANCHOR_PREFIX, AnchorDocument, AnchorLink, StoredAnchor, sha256
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

    def all(self) -> list[StoredAnchor]:
        """Every anchor in key (time) order, each read at its original version."""
        versions: dict[str, list[dict[str, Any]]] = defaultdict(list)
        hidden: set[str] = set()
        try:
            pages = (
                aws.s3()
                .get_paginator("list_object_versions")
                .paginate(Bucket=self.bucket, Prefix=ANCHOR_PREFIX)
            )
            for page in pages:
                for v in page.get("Versions", []):
                    versions[v["Key"]].append(dict(v))
                for marker in page.get("DeleteMarkers", []):
                    if marker.get("IsLatest"):
                        hidden.add(marker["Key"])
            stored = []
            for key in sorted(versions):
                # S3 lists a key's versions newest first: the original is the last one.
                original = versions[key][-1]
                body = aws.s3().get_object(Bucket=self.bucket, Key=key, VersionId=original["VersionId"])[
                    "Body"
                ]
                stored.append(
                    StoredAnchor(
                        key=key, original=body.read(), versions=len(versions[key]), hidden=key in hidden
                    )
                )
        except (ClientError, BotoCoreError) as exc:
            raise Unavailable("the audit anchors could not be read") from exc
        return stored

    def latest(self) -> AnchorLink | None:
        anchors = self.all()
        if not anchors:
            return None
        return AnchorLink(key=anchors[-1].key, sha256=sha256(anchors[-1].original))
