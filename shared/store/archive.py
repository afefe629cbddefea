"""The write-once archive: every recorded content event, under S3 Object Lock (COMPLIANCE).

An event is named by its id (the SHA-256 of its content), so the archive is the same set of objects whatever
order and however often the platforms delivered: a second write of the same event is refused by S3
(``If-None-Match``) and counts as already archived. The versions of an item are a function of its events.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from shared.domain.content import ContentEvent, canonical_json
from shared.errors import Unavailable
from shared.settings import get_settings
from shared.store import aws

ARCHIVE = "archive"
_ALREADY_THERE = {"PreconditionFailed", "412", "ConditionalRequestConflict"}


def event_key(event: ContentEvent) -> str:
    return version_key(event.platform, event.account_id, event.item_id, event.event_id)


def version_key(platform: str, account_id: str, item_id: str, event_id: str) -> str:
    """Where the event that made an item version is archived."""
    return f"events/{platform}/{account_id}/{item_id}/{event_id}.json"


def attachments_prefix(platform: str, account_id: str, item_id: str) -> str:
    """Where an item's archived attachments (media bytes) are kept, one object per file."""
    return f"attachments/{platform}/{account_id}/{item_id}/"


def item_prefix(platform: str, account_id: str, item_id: str) -> str:
    return f"events/{platform}/{account_id}/{item_id}/"


def put_event(
    event: ContentEvent, now: datetime, *, lock_until: datetime | None = None, legal_hold: bool = False
) -> bool:
    """Archive ``event`` under COMPLIANCE Object Lock until ``lock_until`` (default: ``archive_retention_days``
    from now), with a legal hold if one covers it; True if this call wrote it, False if it was archived already.
    Raises Unavailable."""
    settings = get_settings()
    key = event_key(event)
    until = lock_until or now + timedelta(days=settings.archive_retention_days)
    hold: dict[str, Any] = {"ObjectLockLegalHoldStatus": "ON"} if legal_hold else {}  # absent: no legal hold
    try:
        aws.s3().put_object(
            Bucket=settings.bucket_name(ARCHIVE),
            Key=key,
            Body=canonical_json(event.model_dump(mode="json")),
            ContentType="application/json",
            ChecksumAlgorithm="SHA256",
            ObjectLockMode="COMPLIANCE",
            ObjectLockRetainUntilDate=until,
            IfNoneMatch="*",
            **hold,
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
    body = read_bytes(key)
    if body is None:
        return None
    value: dict[str, Any] = json.loads(body)
    return value


def read_bytes(key: str) -> bytes | None:
    """The archived object under ``key`` exactly as stored (None if there is none); raises Unavailable."""
    try:
        body: bytes = aws.s3().get_object(Bucket=get_settings().bucket_name(ARCHIVE), Key=key)["Body"].read()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return None
        raise Unavailable("the archive could not be read") from exc
    except BotoCoreError as exc:
        raise Unavailable("the archive could not be read") from exc
    return body


def attachments(platform: str, account_id: str, item_id: str) -> list[str]:
    """The keys of an item's archived attachments (none unless media bytes were archived for it)."""
    prefix = attachments_prefix(platform, account_id, item_id)
    try:
        pages = (
            aws.s3()
            .get_paginator("list_objects_v2")
            .paginate(Bucket=get_settings().bucket_name(ARCHIVE), Prefix=prefix)
        )
        return [str(o["Key"]) for page in pages for o in page.get("Contents", [])]
    except (ClientError, BotoCoreError) as exc:
        raise Unavailable("the archive's attachments could not be listed") from exc


def download(key: str, path: str) -> None:
    """Copy one archived object to a local file, streamed (never whole in memory); raises Unavailable."""
    try:
        aws.s3().download_file(get_settings().bucket_name(ARCHIVE), key, path)
    except (ClientError, BotoCoreError) as exc:
        raise Unavailable("an archived attachment could not be read") from exc


# --------------------------------------------------------------------------------------------- governing versions
@dataclass(frozen=True)
class ArchivedVersion:
    key: str
    version_id: str


def versions(platform: str, account_id: str, item_id: str) -> list[ArchivedVersion]:
    """Every stored version of every archived event of one item (its objects under the item's prefix)."""
    return versions_under(item_prefix(platform, account_id, item_id))


def all_versions(platform: str, account_id: str, item_id: str) -> list[ArchivedVersion]:
    """Every stored version of everything archived for one item: its events and its attachments (what a legal hold
    covers and a disposition destroys)."""
    return [
        *versions(platform, account_id, item_id),
        *versions_under(attachments_prefix(platform, account_id, item_id)),
    ]


def versions_under(prefix: str) -> list[ArchivedVersion]:
    """Every stored version (and delete marker) of every archived object under ``prefix``; raises Unavailable."""
    bucket = get_settings().bucket_name(ARCHIVE)
    found: list[ArchivedVersion] = []
    try:
        pages = aws.s3().get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix)
        for page in pages:
            for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                found.append(ArchivedVersion(str(v["Key"]), str(v["VersionId"])))
    except (ClientError, BotoCoreError) as exc:
        raise Unavailable("the archive's versions could not be listed") from exc
    return found


def lock_of(version: ArchivedVersion) -> tuple[datetime | None, bool]:
    """(the COMPLIANCE retain-until date, whether a legal hold is on) as S3 holds them for a version, read with
    HeadObject (which answers both)."""
    try:
        answer = aws.s3().head_object(
            Bucket=get_settings().bucket_name(ARCHIVE), Key=version.key, VersionId=version.version_id
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
            return None, False
        raise Unavailable("the archive's Object Lock could not be read") from exc
    except BotoCoreError as exc:
        raise Unavailable("the archive's Object Lock could not be read") from exc
    until = answer.get("ObjectLockRetainUntilDate")
    return (until if isinstance(until, datetime) else None), answer.get("ObjectLockLegalHoldStatus") == "ON"


def retained_until(version: ArchivedVersion) -> datetime | None:
    return lock_of(version)[0]


def extend_retention(found: list[ArchivedVersion], until: datetime) -> int:
    """Extend each version's COMPLIANCE retention to ``until`` where it ends earlier; never shortens one (S3
    refuses that for COMPLIANCE anyway). Returns how many were extended."""
    bucket = get_settings().bucket_name(ARCHIVE)
    extended = 0
    for version in found:
        current = retained_until(version)
        if current is not None and current >= until:
            continue
        try:
            aws.s3().put_object_retention(
                Bucket=bucket,
                Key=version.key,
                VersionId=version.version_id,
                Retention={"Mode": "COMPLIANCE", "RetainUntilDate": until},
            )
        except (ClientError, BotoCoreError) as exc:
            raise Unavailable("the archive's retention could not be extended") from exc
        extended += 1
    return extended


def set_legal_hold(found: list[ArchivedVersion], on: bool) -> None:
    """Turn S3 Object Lock legal hold on or off for each version."""
    bucket = get_settings().bucket_name(ARCHIVE)
    status: Literal["ON", "OFF"] = "ON" if on else "OFF"
    for version in found:
        try:
            aws.s3().put_object_legal_hold(
                Bucket=bucket, Key=version.key, VersionId=version.version_id, LegalHold={"Status": status}
            )
        except (ClientError, BotoCoreError) as exc:
            raise Unavailable("the archive's legal hold could not be changed") from exc


class DeletionRefused(Unavailable):
    """S3 refused to delete a version (its Object Lock still holds it): nothing that is locked is ever lost."""


def delete_versions(found: list[ArchivedVersion]) -> int:
    """Delete every listed version for good (disposition). S3 refuses a version still under retention or legal
    hold: then DeletionRefused, naming how many it refused. Returns how many were deleted."""
    bucket = get_settings().bucket_name(ARCHIVE)
    deleted = 0
    refused: list[str] = []
    for start in range(0, len(found), 1000):
        chunk = found[start : start + 1000]
        try:
            answer = aws.s3().delete_objects(
                Bucket=bucket,
                Delete={
                    "Objects": [{"Key": v.key, "VersionId": v.version_id} for v in chunk],
                    "Quiet": False,
                },
                ChecksumAlgorithm="SHA256",
            )
        except (ClientError, BotoCoreError) as exc:
            raise Unavailable("the archive could not delete the versions") from exc
        deleted += len(answer.get("Deleted", []))
        refused += [str(e.get("Key")) for e in answer.get("Errors", [])]
    if refused:
        raise DeletionRefused(
            f"S3 refused to delete {len(refused)} locked version(s); nothing locked was deleted"
        )
    return deleted
