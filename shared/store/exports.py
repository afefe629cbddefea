"""The exports bucket (catalogue): packages handed out of Steward (transfer packages to the state archives; the
public-records export packages)."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from shared.errors import Unavailable
from shared.settings import get_settings
from shared.store import aws

EXPORTS = "exports"


def put(key: str, data: bytes, *, content_type: str, what: str) -> None:
    """Write one package under ``key`` (SHA-256 checksummed by S3); Unavailable naming ``what`` if S3 fails."""
    try:
        aws.s3().put_object(
            Bucket=get_settings().bucket_name(EXPORTS),
            Key=key,
            Body=data,
            ContentType=content_type,
            ChecksumAlgorithm="SHA256",
        )
    except (ClientError, BotoCoreError) as exc:
        raise Unavailable(f"the {what} could not be written") from exc
