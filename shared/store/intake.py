"""The intake bucket and queue: raw deliveries kept exactly as received, and pointers to them for the processor."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime

from botocore.exceptions import BotoCoreError, ClientError

from shared.errors import BadRequest, StewardError, Unavailable
from shared.settings import get_settings
from shared.store import aws

INTAKE = "intake"


class IntegrityError(StewardError):
    """A stored delivery no longer has the bytes that were verified: never retried, never processed."""

    code = "integrity_error"


# "youtube-poll": a commentThreads.list page kept by the YouTube poller (shared.youtube_polling).
EXTENSIONS = {"meta": "json", "x": "json", "youtube": "xml", "youtube-poll": "json"}


@dataclass(frozen=True)
class Pointer:
    """What the queue carries: where a verified delivery is, and how to check it is the same bytes."""

    platform: str
    bucket: str
    key: str
    sha256: str
    size: int
    received_at: str
    request_id: str
    version: int = 1

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def delivery_key(platform: str, received_at: datetime, digest: str, *, rejected: bool) -> str:
    """Deliveries sort by platform and time; refused ones (bad shape) are kept apart for diagnosis."""
    folder = "rejected" if rejected else "deliveries"
    stamp = received_at.strftime("%Y/%m/%d/%H%M%S.%fZ")
    return f"{folder}/{platform}/{stamp}-{digest[:16]}.{EXTENSIONS.get(platform, 'bin')}"


def _ascii(value: str, limit: int = 200) -> str:
    """A header value as S3 metadata can hold it: printable ASCII, bounded."""
    return "".join(ch if " " <= ch <= "~" else "?" for ch in value[:limit])


def store(
    platform: str,
    body: bytes,
    received_at: datetime,
    request_id: str,
    content_type: str | None,
    *,
    rejected: bool = False,
) -> Pointer:
    """Keep the raw bytes (never overwriting an object); raises Unavailable if S3 fails."""
    bucket = get_settings().bucket_name(INTAKE)
    digest = hashlib.sha256(body).hexdigest()
    key = delivery_key(platform, received_at, digest, rejected=rejected)
    stamp = received_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    try:
        aws.s3().put_object(
            Bucket=bucket,
            Key=key,
            Body=body,
            # The bytes are kept as opaque bytes whatever the sender called them: an object stored as a form
            # (curl's default) was parsed as one by S3-compatible servers and could not be read back.
            ContentType="application/octet-stream",
            ChecksumAlgorithm="SHA256",
            IfNoneMatch="*",
            Metadata={
                "platform": platform,
                "received-at": stamp,
                "sha256": digest,
                "request-id": request_id,
                "sent-content-type": _ascii(content_type or ""),
            },
        )
    except (ClientError, BotoCoreError) as exc:
        raise Unavailable("the delivery could not be stored; the platform should retry") from exc
    return Pointer(platform, bucket, key, digest, len(body), stamp, request_id)


def enqueue(pointer: Pointer) -> None:
    """Hand the stored delivery to the processor; raises Unavailable if SQS fails."""
    try:
        aws.sqs().send_message(QueueUrl=get_settings().queue_url(INTAKE), MessageBody=pointer.to_json())
    except (ClientError, BotoCoreError) as exc:
        raise Unavailable("the delivery could not be queued; the platform should retry") from exc


def read(pointer: Pointer) -> bytes:
    """The stored delivery a pointer names, checked against the digest taken when it arrived."""
    try:
        body = aws.s3().get_object(Bucket=pointer.bucket, Key=pointer.key)["Body"].read()
    except (ClientError, BotoCoreError) as exc:
        raise Unavailable(f"delivery {pointer.key} could not be read") from exc
    if hashlib.sha256(body).hexdigest() != pointer.sha256:
        raise IntegrityError(f"delivery {pointer.key} does not match the digest taken when it arrived")
    return bytes(body)


def parse_pointer(body: str) -> Pointer:
    """A queued pointer; raises BadRequest naming what is wrong with it."""
    try:
        data = json.loads(body)
        return Pointer(**{k: data[k] for k in Pointer.__dataclass_fields__ if k in data})
    except (ValueError, TypeError) as exc:
        raise BadRequest(f"the queued message is not a delivery pointer: {exc}") from exc
