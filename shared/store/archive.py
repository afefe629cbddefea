"""The write-once archive: every recorded content event, under S3 Object Lock (COMPLIANCE).

An event is named by its id (the SHA-256 of its content), so the archive is the same set of objects whatever
order and however often the platforms delivered: a second write of the same event is refused by S3
(``If-None-Match``) and counts as already archived. The versions of an item are a function of its events.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shared.domain.content import ContentEvent, canonical_json
from shared.errors import Unavailable
from shared.settings import get_settings
from shared.store import aws

ARCHIVE = "archive"
_ALREADY_THERE = {"PreconditionFailed", "412", "ConditionalRequestConflict"}


def event_key(event: ContentEvent) -> str:
    return f"events/{event.platform}/{event.account_id}/{event.item_id}/{event.event_id}.json"


def put_event(event: ContentEvent, now: datetime) -> bool:
    """Archive ``event``; True if this call wrote it, False if it was archived already. Raises Unavailable."""
    settings = get_settings()
    key = event_key(event)
    try:
        aws.s3().put_object(
            Bucket=settings.bucket_name(ARCHIVE),
            Key=key,
            Body=canonical_json(event.model_dump(mode="json")),
            ContentType="application/json",
            ChecksumAlgorithm="SHA256",
            ObjectLockMode="COMPLIANCE",
            ObjectLockRetainUntilDate=now + timedelta(days=settings.archive_retention_days),
            IfNoneMatch="*",
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in _ALREADY_THERE:
            return False
        raise Unavailable("the archive could not be written") from exc
    except BotoCoreError as exc:
        raise Unavailable("the archive could not be written") from exc
    return True


def read(key: str) -> dict[str, Any] | None:
    """The archived event under ``key`` (None if there is none); raises Unavailable if S3 fails."""
    try:
        body = aws.s3().get_object(Bucket=get_settings().bucket_name(ARCHIVE), Key=key)["Body"].read()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return None
        raise Unavailable("the archive could not be read") from exc
    except BotoCoreError as exc:
        raise Unavailable("the archive could not be read") from exc
    value: dict[str, Any] = json.loads(body)
    return value
