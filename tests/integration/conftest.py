"""Helpers for the integration tests: moto clients on the provisioned resources, error injection, snapshots.

``moto_env`` is the root ``aws_env`` made cheaper: provisioning the whole catalogue (the Cognito pool above all)
costs about a second, so it runs once per module inside one ``mock_aws``, and each test gets its own fresh copy of
every table, bucket and queue, built by the same provisioning code under a unique prefix (so resource names are
``t<n>-<key>``, not ``steward-local-<key>``). The Cognito pool and its users are shared by the module's tests.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from infrastructure.local import provision as provisioning
from infrastructure.local.fake_platforms import FakePlatforms
from infrastructure.local.lambdas import Lambdas
from infrastructure.local.poller import QueuePoller
from infrastructure.local.provision import Provisioned
from shared import audit, catalogue
from shared.store import aws

REGION = "us-east-1"
_fresh = itertools.count(1)


@dataclass(frozen=True)
class _Moto:
    provisioned: Provisioned
    ddb: Any
    s3: Any
    sqs: Any


@pytest.fixture(scope="module")
def _moto_catalogue() -> Iterator[_Moto]:
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        yield _Moto(
            provisioning.provision(session),
            session.client("dynamodb"),
            session.client("s3"),
            session.client("sqs"),
        )


@pytest.fixture
def moto_env(_moto_catalogue: _Moto, monkeypatch: pytest.MonkeyPatch) -> Iterator[Provisioned]:
    """moto with every catalogue resource; this test's tables, buckets and queues are new and empty."""
    monkeypatch.setattr(provisioning, "PREFIX", f"t{next(_fresh)}")
    env = dict(_moto_catalogue.provisioned.env)
    for t in catalogue.TABLES:
        provisioning._table(_moto_catalogue.ddb, t)
        env[t.env_var] = provisioning.name(t.key)
    for b in catalogue.BUCKETS:
        provisioning._bucket(_moto_catalogue.s3, b)
        env[b.env_var] = provisioning.name(b.key)
    queue_urls, dlq_urls = {}, {}
    for q in catalogue.QUEUES:
        queue_urls[q.key], dlq_urls[q.key] = provisioning._queue(_moto_catalogue.sqs, q)
        env[q.env_var] = queue_urls[q.key]
        env[q.dlq_env_var] = dlq_urls[q.key]
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    aws.reset()
    yield replace(_moto_catalogue.provisioned, env=env, queue_urls=queue_urls, dlq_urls=dlq_urls)
    aws.reset()


@dataclass
class Stores:
    """The audit table and the anchor bucket as plain boto3 sees them (the way a tamperer would)."""

    ddb: Any
    s3: Any
    table: str
    bucket: str

    def items(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for page in self.ddb.get_paginator("scan").paginate(TableName=self.table, ConsistentRead=True):
            out.extend(page["Items"])
        return out

    def chain_items(self, chain: int) -> list[dict[str, Any]]:
        pk = f"CHAIN#{chain:04d}"
        return sorted((i for i in self.items() if i["pk"]["S"] == pk), key=lambda i: i["sk"]["S"])

    def object_versions(self) -> list[dict[str, Any]]:
        """Every version and delete marker in the anchor bucket."""
        out: list[dict[str, Any]] = []
        for page in self.s3.get_paginator("list_object_versions").paginate(Bucket=self.bucket):
            out.extend(page.get("Versions", []))
            out.extend(page.get("DeleteMarkers", []))
        return out

    def snapshot(self) -> tuple[int, int]:
        """(audit items, anchor object versions and markers): what a refused request must not change."""
        return len(self.items()), len(self.object_versions())


@pytest.fixture
def stores(moto_env: Provisioned, _moto_catalogue: _Moto) -> Stores:
    return Stores(
        ddb=_moto_catalogue.ddb,
        s3=_moto_catalogue.s3,
        table=moto_env.env[catalogue.table("audit").env_var],
        bucket=moto_env.env[catalogue.bucket("audit-anchors").env_var],
    )


@pytest.fixture
def chains(moto_env: Provisioned, monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """Set STEWARD_AUDIT_CHAINS and forget every cached setting, client and audit log."""

    def use(count: int) -> None:
        monkeypatch.setenv("STEWARD_AUDIT_CHAINS", str(count))
        aws.reset()

    return use


@dataclass
class Injected:
    calls: int = 0


def inject_error(client: Any, operation: str, code: str, status: int = 500) -> Injected:
    """Make every ``operation`` call on ``client`` fail with ``code`` (a botocore before-call hook, no network)."""
    seen = Injected()
    service = client.meta.service_model.service_id.hyphenize()

    def fail(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        seen.calls += 1
        body = {
            "Error": {"Code": code, "Message": "injected by the test"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
        return AWSResponse("https://injected.invalid", status, {}, None), body

    client.meta.events.register(f"before-call.{service}.{operation}", fail)
    return seen


@pytest.fixture
def fresh_audit(moto_env: Provisioned) -> Iterator[None]:
    """The audit facade's cached log and anchor store, forgotten before and after."""
    audit.reset()
    yield
    audit.reset()


@pytest.fixture
def fake(moto_env: Provisioned, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakePlatforms]:
    """The fake platform server on loopback, with the functions' platform URLs pointed at it."""
    with FakePlatforms() as server:
        for key, value in server.settings_env().items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("STEWARD_PLATFORM_ATTEMPTS", "2")
        aws.reset()
        yield server
    aws.reset()


class QueueWorker:
    """A catalogue function consuming its queue the way the local runtime's poller delivers it (real batches,
    partial failures), run on demand: :meth:`work` delivers until the queue is empty."""

    def __init__(self, env: Provisioned, function: str) -> None:
        spec = catalogue.function(function)
        assert spec.consumes is not None, f"{function} consumes no queue"
        sqs = boto3.client("sqs", region_name=REGION)
        self.poller = QueuePoller(sqs, spec, env.queue_urls[spec.consumes], Lambdas(REGION).invoke, REGION, 0)

    def work(self) -> int:
        """How many messages were delivered."""
        done = 0
        while (got := self.poller.poll_once()) > 0:
            done += got
        return done
