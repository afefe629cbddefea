"""The abandoned-account sweep over 1,000 official accounts, on in-process moto.

The issue's target: "Sweep over 1,000 accounts: reads <= 2 per account; time beside a floor of 1,000 plain
``get_item`` calls, ratio <= 3." The subject is :func:`shared.abandonment_service.sweep`: it lists the active,
dormant and abandoned accounts through the registry's status index (pages of 100), reads each page's credential
records in one BatchGetItem and the page's latest-activity records (written by ingest when an account itself posts)
in another. ``reads`` counts every DynamoDB read request the sweep makes (Query, GetItem, BatchGetItem,
Scan, TransactGetItems: a botocore hook on every model's client), divided by the accounts; the items those reads
returned are reported beside it. The floor: 1,000 ``GetItem`` of the same account items, one after the other.

The data: ``accounts`` active official accounts, each linked to its Facebook page, with a credential record in the
table and a post on its page; ``stale`` of them last posted 100 days ago (the default threshold is 90), so the
sweep warns them (a move: the account re-read, then written with its audit entry in one transaction), the rest
posted a week ago. The post and its activity record are seeded as ingest writes them. Accounts are cloned (new id and page) from one built through the real request → approval →
stewards → disclosures → activation flow, and written with ``batch_write``.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from moto import mock_aws

from bench.audit_bench import REGION, _environment

NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)
READS = ("Query", "GetItem", "BatchGetItem", "Scan", "TransactGetItems")


def _template() -> Any:
    """One active, linked official account built through the services (as a communications director and IT)."""
    from shared import accounts_service
    from shared.catalogue import Role
    from shared.domain.accounts import DisclosureItem, StewardRole
    from shared.identity import Identity

    def person(name: str, *roles: Role) -> Identity:
        return Identity(
            subject=name, username=name, email=f"{name}@district.example.org", roles=frozenset(roles)
        )

    director, tech = person("director", Role.COMMUNICATIONS), person("tech", Role.IT)
    staff = person("teacher", Role.STAFF)
    view = accounts_service.request_account(
        staff,
        platform="facebook",
        handle="bench-school",
        school="Bench School",
        purpose="School news",
        audience="Families",
        kind="school",
    )
    account_id = view.id
    accounts_service.approve(account_id, director)
    for email in ("a1@district.example.org", "a2@district.example.org"):
        accounts_service.add_steward(account_id, tech, email, StewardRole.ADMIN)
    for item in DisclosureItem:
        accounts_service.confirm_disclosure(account_id, item, director)
    accounts_service.move(account_id, "activate", tech)
    return accounts_service.link_platform(account_id, tech, "9000000").id


def _seed(accounts: int, stale: int) -> list[str]:
    """Clone the template ``accounts`` times (credential and latest post too); the cloned account ids."""
    from shared.domain.content import Change, ContentEvent, build_history, format_time
    from shared.domain.credentials import Credential
    from shared.store.account_store import AccountRecord, AccountStore, _record, account_key
    from shared.store.content_store import ActivityRecord, ContentRecord, ContentStore, activity_key
    from shared.store.content_store import _record as content_record
    from shared.store.vault import CREDENTIAL

    store = AccountStore()
    template_id = _template()
    template = store.get(template_id)
    assert template is not None
    ContentStore()
    credential = Credential(
        account_id=template_id,
        secret_id="steward/accounts/bench",  # noqa: S106 (a secret's name, not a secret)
        login_email="social@district.example.org",
        current_version="v1",
        has_password=True,
        password_changed_at=NOW - timedelta(days=20),
        created_at=NOW - timedelta(days=200),
        updated_at=NOW - timedelta(days=20),
    )
    ids: list[str] = []
    with AccountRecord.batch_write() as accounts_batch, ContentRecord.batch_write() as content_batch:
        for n in range(accounts):
            account_id = f"{n:032x}"
            page = f"{9_100_000_000 + n}"
            account = template.account.model_copy(update={"id": account_id, "platform_id": page})
            accounts_batch.save(_record(account, 1))
            accounts_batch.save(
                AccountRecord(
                    pk=account_key(account_id),
                    sk=CREDENTIAL,
                    revision=1,
                    body=credential.model_copy(update={"account_id": account_id}).model_dump_json(),
                )
            )
            posted = NOW - timedelta(days=100 if n < stale else 7)
            post = ContentEvent.create(
                platform="facebook",
                account_id=page,
                item_id=f"{page}_post",
                change=Change.ADDED,
                occurred_at=posted,
                created_at=posted,
                kind="post",
                text="News",
                author={"id": page, "name": "Bench School"},
                author_is_account=True,
            )
            content_batch.save(content_record(build_history([post]), 1, (), None))
            # What ingest notes when the account itself posts (shared.ingest._index).
            content_batch.save(
                ActivityRecord(pk=activity_key("facebook", page), sk="META", latest=format_time(posted))
            )
            ids.append(account_id)
    # The template itself leaves the registry, so the sweep sees exactly the clones.
    AccountRecord(pk=account_key(template_id), sk="META").delete()
    return ids


class _Reads:
    """Every DynamoDB read request made through the models' clients, and the items they returned."""

    def __init__(self) -> None:
        self.calls = 0
        self.items = 0

    def __call__(self, parsed: dict[str, Any], **_: Any) -> None:
        self.calls += 1
        self.items += int(parsed.get("Count", 0)) + sum(
            len(v) for v in parsed.get("Responses", {}).values() if isinstance(v, list)
        )
        if "Item" in parsed:
            self.items += 1

    @contextmanager
    def watch(self) -> Iterator[None]:
        """Hook every client the store models use (each bound model's, and the one for transactions)."""
        from shared.store import dynamo
        from shared.store.account_store import AccountStore
        from shared.store.content_store import ContentStore
        from shared.store.run_store import RunStore

        AccountStore(), ContentStore(), RunStore()  # bind every model the sweep reads through
        connections = [m._get_connection().connection for m in dynamo._bound] + [dynamo.connection()]
        clients = {id(c.client): c.client for c in connections}
        for client in clients.values():
            for op in READS:
                client.meta.events.register(f"after-call.dynamodb.{op}", self)
        try:
            yield
        finally:
            for client in clients.values():
                for op in READS:
                    client.meta.events.unregister(f"after-call.dynamodb.{op}", self)


def run(accounts: int, stale: int, rounds: int) -> list[dict[str, Any]]:
    _environment()
    from freezegun import freeze_time

    from infrastructure.local.provision import provision
    from shared import abandonment_service, audit
    from shared.store import aws
    from shared.store.account_store import account_key

    with mock_aws():
        provisioned = provision(boto3.session.Session(region_name=REGION))
        os.environ.update(provisioned.env)
        aws.reset()
        audit.reset()
        with freeze_time(NOW - timedelta(days=1)):
            ids = _seed(accounts, stale)
        client = boto3.client("dynamodb", region_name=REGION)
        table = provisioned.env["STEWARD_TABLE_ACCOUNTS"]

        def floor() -> None:
            for account_id in ids:
                client.get_item(
                    TableName=table, Key={"pk": {"S": account_key(account_id)}, "sk": {"S": "META"}}
                )

        reads = _Reads()
        subject_times, floor_times = [], []
        summary: dict[str, Any] = {}
        for round_no in range(rounds):
            started = time.perf_counter()
            floor()
            floor_times.append(time.perf_counter() - started)
            reads.calls = reads.items = 0
            started = time.perf_counter()  # outside freeze_time, which stops perf_counter too
            with reads.watch(), freeze_time(NOW + timedelta(minutes=round_no)):
                summary = abandonment_service.sweep()
            subject_times.append(time.perf_counter() - started)
            if round_no == 0:
                assert summary["steps"].get("warn") == stale, summary
                first_reads = (reads.calls, reads.items)
    seconds, floor_seconds = statistics.median(subject_times), statistics.median(floor_times)
    per_account = first_reads[0] / accounts
    return [
        {
            "name": f"sweep {accounts} accounts (time)",
            "unit": "s",
            "seconds": round(seconds, 3),
            "floor_seconds": round(floor_seconds, 3),
            "ratio": round(seconds / floor_seconds, 3),
            "target": "<= 3",
            "floor": f"{accounts} plain get_item calls of the same accounts",
        },
        {
            "name": f"sweep {accounts} accounts (reads)",
            "unit": "/s",
            "rate": round(per_account, 3),
            "floor_rate": 1.0,
            "ratio": round(per_account, 3),
            "target": "<= 2 read requests per account",
            "floor": f"one read per account; first round (with {stale} warned): {first_reads[0]} read requests "
            f"returning {first_reads[1]} items",
        },
    ]
