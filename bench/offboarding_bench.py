"""Offboarding a steward of 200 accounts beside 200 plain ``put_secret_value`` calls, on the same moto.

The issue's target: "Offboarding a steward of 200 accounts: the time beside 200 plain ``put_secret_value`` calls on
the same moto, ratio <= 2." The subject is :func:`shared.offboarding_service.offboard` end to end (index queries,
batch read, audit entries, one conditional put per account, batch deletes, the record, the rotation requests on
the queue and the notices). Before each round the person is made steward of the same 200 accounts again (active
and dormant, admin or editor, every tenth left below two admins), seeded directly as items (as the registry
would hold them, with a credential record each) because 200 transactions would only slow the set-up, and the
rotations queue is a new, empty one (the rotation worker drains it; moto's SendMessage cost grows with the
messages already queued). The floor writes a new value into each of 200 secrets. Rounds alternate floor and
subject; the medians are compared.
"""

from __future__ import annotations

import os
import statistics
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from bench.audit_bench import REGION, _environment, _timed
from bench.support import moto_server

DOMAIN = "district.example.org"


def _seed(person: str, count: int, round_no: int) -> None:
    """``count`` accounts stewarded by ``person``, written as items (account, steward items, credential record)."""
    from shared.catalogue import Role
    from shared.domain import accounts as domain
    from shared.domain import credentials
    from shared.store import account_store
    from shared.store.account_store import AccountRecord, account_key
    from shared.store.vault import CREDENTIAL

    account_store.AccountStore()  # binds the model to the provisioned table
    roles = (Role.COMMUNICATIONS, Role.IT)
    kim, ortiz = f"director.kim@{DOMAIN}", f"tech.ortiz@{DOMAIN}"
    at = datetime(2026, 9, 1, tzinfo=UTC) + timedelta(days=round_no)
    values = credentials.parse_values(
        {
            "login_email": f"social@{DOMAIN}",
            "password": "Correct-Horse-Battery-77",
            "tokens": {"page_access_token": "EAAGbench", "expires_at": "2027-01-15T00:00:00Z"},
        },
        district_domains=[DOMAIN],
    )
    with AccountRecord.batch_write() as batch:
        for i in range(count):
            account = domain.request_account(
                platform="facebook",
                handle=f"bench-{round_no}-{i}",
                school=f"School {i % 40}",
                purpose="School news",
                audience="Families",
                kind="school",
                requested_by=kim,
                at=at,
            )
            kw: dict[str, Any] = {"actor": "user:director.kim", "roles": roles, "at": at}
            account = account.approve(**kw)
            # Every tenth account: the person is one of two admins (left short); otherwise a third admin or editor.
            team = {person: "admin", kim: "admin"} if i % 10 == 0 else {kim: "admin", ortiz: "admin"}
            if i % 10:
                team[person] = "admin" if i % 2 else "editor"
            for email, role in team.items():
                account = account.add_steward(email, role, **kw)
            for item in domain.DisclosureItem:
                account = account.confirm_disclosure(item, **kw)
            account = account.activate(**kw)
            if i % 7 == 0:
                account = account.mark_dormant(**kw)
            batch.save(account_store._record(account, len(account.history)))
            for email in account.steward_emails:
                batch.save(account_store._steward_record(account, email))
            record = credentials.new_credential(
                account_id=account.id,
                secret_id=f"steward/accounts/{account.id}",
                values=values,
                version_id=f"v-{round_no}-{i}",
                actor="user:tech.ortiz",
                at=at,
            )
            batch.save(
                AccountRecord(
                    pk=account_key(account.id), sk=CREDENTIAL, revision=1, body=record.model_dump_json()
                )
            )


def run(accounts: int, rounds: int) -> list[dict[str, Any]]:
    _environment()
    from shared import catalogue, offboarding_service
    from shared.catalogue import Role
    from shared.identity import Identity
    from shared.settings import get_settings
    from shared.store import aws
    from shared.store.account_store import OFFBOARDING, AccountRecord, offboarding_key

    person = f"leaver@{DOMAIN}"
    who = Identity(
        subject="sub-bench", username="tech.ortiz", email=f"tech.ortiz@{DOMAIN}", roles=frozenset({Role.IT})
    )
    with moto_server() as endpoint:
        secrets = boto3.client("secretsmanager", region_name=REGION, endpoint_url=endpoint)
        sqs = boto3.client("sqs", region_name=REGION, endpoint_url=endpoint)
        names = [f"bench/floor/{i}" for i in range(accounts)]
        for name in names:
            secrets.create_secret(Name=name, SecretString='{"password": "initial"}')
        aws.sqs(), aws.sns()  # a warm function holds its clients

        def reset(round_no: int) -> None:
            """The same 200 accounts, stewarded again, and an empty rotations queue (the worker drains it):
            each round offboards the same person from the same district, not from a table that keeps growing."""
            _seed(person, accounts, 0)
            AccountRecord(pk=offboarding_key(person), sk=OFFBOARDING).delete()
            url = sqs.create_queue(QueueName=f"bench-rotations-{round_no}")["QueueUrl"]
            os.environ[catalogue.queue("rotations").env_var] = url
            get_settings.cache_clear()

        def floor(round_no: int) -> None:
            for name in names:
                secrets.put_secret_value(SecretId=name, SecretString=f'{{"password": "round-{round_no}"}}')

        def subject() -> None:
            report = offboarding_service.offboard(who, person, "Left the district (bench)")
            assert len(report.removed_from) == accounts, report.removed_from
            assert len(report.rotations) == accounts, report.rotations

        floor_times, subject_times = [], []
        for r in range(rounds):
            reset(r)
            floor_times.append(_timed(lambda r=r: floor(r)))  # type: ignore[misc]
            subject_times.append(_timed(subject))

    seconds, floor_seconds = statistics.median(subject_times), statistics.median(floor_times)
    return [
        {
            "name": "offboarding (200 accounts)" if accounts == 200 else f"offboarding ({accounts} accounts)",
            "entries": accounts,
            "rate": round(accounts / seconds, 1),
            "floor": f"{accounts} plain put_secret_value, same moto",
            "floor_rate": round(accounts / floor_seconds, 1),
            "ratio": round(seconds / floor_seconds, 3),
            "target": "<= 2 (time ÷ floor time)",
            "seconds": round(seconds, 4),
            "floor_seconds": round(floor_seconds, 4),
            "unit": "s",
        }
    ]


if __name__ == "__main__":
    for row in run(accounts=200, rounds=5):
        print(row)
