"""The exports bucket (catalogue): packages handed out of Steward (transfer packages to the state archives; the
public-records export packages, downloaded through links that expire in minutes)."""

from __future__ import annotations

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError

from shared.errors import Unavailable
from shared.settings import get_settings
from shared.store import aws

EXPORTS = "exports"
# A package is uploaded from its file in parts of this size, one at a time: the upload's memory is one part's
# buffers whatever the package's size.
_PARTS = TransferConfig(
    multipart_threshold=8 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024, use_threads=False
)


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


def upload(key: str, path: str, *, content_type: str, what: str) -> None:
    """Upload the package in the local file ``path`` under ``key``, streamed from disk in parts."""
    try:
        aws.s3().upload_file(
            path,
            get_settings().bucket_name(EXPORTS),
            key,
            ExtraArgs={"ContentType": content_type, "ChecksumAlgorithm": "SHA256"},
            Config=_PARTS,
        )
    except (ClientError, BotoCoreError) as exc:
        raise Unavailable(f"the {what} could not be written") from exc


def link(key: str, *, seconds: int, filename: str) -> str:
    """A presigned GET of ``key`` valid for ``seconds``, served as an attachment named ``filename``."""
    try:
        url: str = aws.s3().generate_presigned_url(
            "get_object",
            Params={
                "Bucket": get_settings().bucket_name(EXPORTS),
                "Key": key,
                "ResponseContentDisposition": f'attachment; filename="{filename}"',
            },
            ExpiresIn=seconds,
        )
    except (ClientError, BotoCoreError) as exc:
        raise Unavailable("the download link could not be made") from exc
    return url


def exists(key: str) -> bool:
    try:
        aws.s3().head_object(Bucket=get_settings().bucket_name(EXPORTS), Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
            return False
        raise Unavailable("the exports bucket could not be read") from exc
    except BotoCoreError as exc:
        raise Unavailable("the exports bucket could not be read") from exc
    return True
