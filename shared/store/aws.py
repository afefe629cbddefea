"""Lazily created AWS clients, one factory for all of them.

Clients are made on first use (never at import time, so moto's mocks and the local runtime's endpoint are in
force) and cached per process. ``reset()`` forgets them, for tests and for the local runtime.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from shared.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=3, read_timeout=10)
# Presigned links (export downloads) of SSE-KMS objects must be SigV4, which then bounds them to 7 days at most.
_SERVICE_CONFIG = {"s3": _CONFIG.merge(Config(signature_version="s3v4"))}


@cache
def client(service: str) -> Any:
    """A boto3 client for ``service`` that honours the endpoint override in the settings."""
    settings = get_settings()
    return boto3.session.Session().client(
        service,  # type: ignore[call-overload]
        region_name=settings.region,
        endpoint_url=settings.endpoint,
        config=_SERVICE_CONFIG.get(service, _CONFIG),
    )


def s3() -> S3Client:
    return client("s3")  # type: ignore[no-any-return]


def dynamodb() -> DynamoDBClient:
    return client("dynamodb")  # type: ignore[no-any-return]


def sqs() -> SQSClient:
    return client("sqs")  # type: ignore[no-any-return]


def secretsmanager() -> SecretsManagerClient:
    return client("secretsmanager")  # type: ignore[no-any-return]


def sns() -> SNSClient:
    return client("sns")  # type: ignore[no-any-return]


def cognito() -> CognitoIdentityProviderClient:
    return client("cognito-idp")  # type: ignore[no-any-return]


def reset() -> None:
    """Forget every cached client, model binding, service and the settings (tests; the local runtime)."""
    from shared import audit, ingest, moderate
    from shared.store import dynamo, records_store, secrets

    client.cache_clear()
    get_settings.cache_clear()
    dynamo.reset()
    audit.reset()
    secrets.reset()
    ingest.reset()
    moderate.reset()
    records_store.CACHE.clear()
