"""The exports bucket (catalogue): packages handed out of Steward (transfer packages to the state archives; the
public-records export packages, downloaded through links that expire in minutes)."""

from __future__ import annotations

import hashlib
import logging
import os
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass

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


_HASH_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Published:
    key: str
    sha256: str
    size: int


def publish_bag(root: str, *, name: str, key: str, info: Mapping[str, str], what: str) -> Published:
    """Make the directory ``root`` a BagIt bag (RFC 8493: the ``bagit`` library moves its files under ``data/``
    and writes the SHA-256 manifests and ``bag-info.txt`` from ``info``), zip it beside ``root`` under one top
    folder ``name``, and upload the zip under ``key``; all on local disk, so memory does not grow with it."""
    import bagit  # imported on use: only the functions that build packages need it

    logging.getLogger("bagit").setLevel(logging.WARNING)  # it logs a line per file at INFO
    bagit.make_bag(root, bag_info=dict(info), checksums=["sha256"])
    path = os.path.join(os.path.dirname(root), f"{name}.zip")
    zip_dir(root, name, path)
    upload(key, path, content_type="application/zip", what=what)
    return Published(key, sha256_file(path), os.path.getsize(path))


def zip_dir(root: str, name: str, path: str) -> None:
    """Zip the directory ``root`` into the file ``path`` under one top folder ``name``, file by file in a stable
    order (zipfile streams each file in chunks: memory does not grow with the package)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as bundle:
        for folder, dirs, files in os.walk(root):
            dirs.sort()
            for file in sorted(files):
                full = os.path.join(folder, file)
                bundle.write(full, arcname=f"{name}/{os.path.relpath(full, root)}")


def sha256_file(path: str) -> str:
    """The SHA-256 (hex) of a local file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


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
