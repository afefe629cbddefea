"""Fixtures every test kind shares: a clean environment, moto with every catalogue resource, API events."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import freezegun
import pytest
from moto import mock_aws

from infrastructure.local.provision import Provisioned, provision
from shared.store import aws

REGION = "us-east-1"

# Set before any test module imports the functions: Powertools reads these at import time.
os.environ.update(
    {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "STEWARD_STAGE": "test",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "steward",
        "POWERTOOLS_DEV": "false",
    }
)
for _var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "STEWARD_AWS_ENDPOINT_URL"):
    os.environ.pop(_var, None)

# freezegun walks every loaded module's attributes when time is frozen; Powertools' lazy modules would import
# (and build pydantic models) then, under the fake datetime class. Steward's own code sees frozen time.
freezegun.configure(extend_ignore_list=["aws_lambda_powertools"])


def _sign_one_certificate() -> None:
    """cryptography's Rust x509 code looks the datetime class up once, on its first certificate, and keeps it;
    moto signs every SNS delivery to a subscription with a certificate. If that first one were made under
    freezegun, every later signing would fail ("'datetime' object is not an instance of 'FakeDatetime'"), so the
    first one is made here, before any test freezes time."""
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "steward-tests")])
    now = datetime.now(UTC)
    (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )


_sign_one_certificate()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Provisioned]:
    """moto with every resource of the catalogue provisioned and the functions' environment pointing at it."""
    with mock_aws():
        provisioned = provision(boto3.session.Session(region_name=REGION))
        for key, value in provisioned.env.items():
            monkeypatch.setenv(key, value)
        aws.reset()
        yield provisioned
        aws.reset()


@dataclass
class FakeContext:
    """The parts of the Lambda context Powertools reads."""

    function_name: str = "steward-test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:steward-test"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@pytest.fixture
def lambda_context() -> FakeContext:
    return FakeContext()
