"""Retention, legal holds and disposition on moto, with frozen time: an item is archived under the Object Lock its
series gives it, its removal extends the lock, a hold makes S3 itself refuse the deletion, the release lifts it,
the sweep proposes the item once its retention is met, and the approval deletes every version and writes the
destruction log entry; the audit trail verifies throughout. Then the transfer path, and the refusals."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import bagit
import boto3
import pytest
from botocore.exceptions import ClientError
from freezegun import freeze_time

# Imported before any time is frozen: a pydantic model defined under freezegun sees its fake datetime class.
import functions.retention_worker.handler  # noqa: F401
from functions.records_api.handler import handler as records_api
from infrastructure.local.provision import Provisioned
from shared import audit, catalogue, ingest, runs
from shared.domain.content import Change, ContentEvent
from shared.domain.runs import RunState
from tests.conftest import REGION, FakeContext
from tests.events import rest_event
from tests.integration.conftest import QueueWorker

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
PAGE, OTHER = "1234567890321", "448242228374517"
RECORDS = ("records",)


def call(method: str, path: str, roles: tuple[str, ...] = RECORDS, body: Any = None) -> tuple[int, Any]:
    path, _, query = path.partition("?")
    event = rest_event(method, path, roles=roles, body=body, query=dict(parse_qsl(query)) or None)
    event["requestContext"]["authorizer"]["claims"]["cognito:username"] = "records.officer"
    response = records_api(event, FakeContext())
    return response["statusCode"], json.loads(response["body"])


def ok(method: str, path: str, body: Any = None) -> Any:
    status, answer = call(method, path, body=body)
    assert status in (200, 201, 202), (method, path, status, answer)
    return answer


class World:
    def __init__(self, env: Provisioned) -> None:
        self.s3 = boto3.client("s3", region_name=REGION)
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.bucket = env.env[catalogue.bucket("archive").env_var]
        self.exports = env.env[catalogue.bucket("exports").env_var]
        self.worker = QueueWorker(env, "retention-worker")

    def work(self) -> int:
        return self.worker.work()

    def versions(self, account: str, item: str) -> list[dict[str, Any]]:
        answer = self.s3.list_object_versions(Bucket=self.bucket, Prefix=f"events/facebook/{account}/{item}/")
        return list(answer.get("Versions", []))

    def attachment_holds(self, account: str, item: str) -> set[str]:
        """The legal hold status of each stored version of the item's attachments."""
        return {
            self.s3.head_object(Bucket=self.bucket, Key=v["Key"], VersionId=v["VersionId"]).get(
                "ObjectLockLegalHoldStatus", "OFF"
            )
            for v in self.attachments(account, item)
        }

    def attachments(self, account: str, item: str) -> list[dict[str, Any]]:
        """Every stored version and delete marker under the item's attachments prefix."""
        answer = self.s3.list_object_versions(
            Bucket=self.bucket, Prefix=f"attachments/facebook/{account}/{item}/"
        )
        return [*answer.get("Versions", []), *answer.get("DeleteMarkers", [])]

    def locks(self, account: str, item: str) -> list[tuple[datetime, str]]:
        out = []
        for v in self.versions(account, item):
            head = self.s3.head_object(Bucket=self.bucket, Key=v["Key"], VersionId=v["VersionId"])
            out.append((head["ObjectLockRetainUntilDate"], head.get("ObjectLockLegalHoldStatus", "OFF")))
        return out

    def delete_first_version(self, account: str, item: str) -> str:
        v = self.versions(account, item)[0]
        try:
            self.s3.delete_object(Bucket=self.bucket, Key=v["Key"], VersionId=v["VersionId"])
        except ClientError as exc:
            return str(exc.response["Error"]["Code"])
        return "deleted"


@pytest.fixture
def world(moto_env: Provisioned) -> World:
    audit.reset()
    return World(moto_env)


def comment(account: str, item: str, change: Change, at: datetime) -> ContentEvent:
    fields: dict[str, Any] = {
        "platform": "facebook",
        "account_id": account,
        "item_id": item,
        "change": change,
        "occurred_at": at,
    }
    if change is Change.ADDED:
        fields |= {"kind": "comment", "text": "When is the bond meeting?", "created_at": at, "post_id": "p1"}
        fields |= {"author": {"id": "user-77", "name": "A Parent"}}
    else:
        fields |= {"changed_by": "platform"}
    return ContentEvent.create(**fields)


def record(account: str, item: str, change: Change, at: datetime) -> None:
    with freeze_time(at):
        ingest.record(comment(account, item, change, at), at)


def retention(account: str, item: str) -> dict[str, Any]:
    return dict(ok("GET", f"/content/facebook/{account}/{item}/retention"))


def test_archive_removal_hold_release_eligibility_approval_and_deletion(world: World) -> None:
    item = "c-100"
    # The page's comments are non-executive communications: destroyed two years after they stop being provided.
    with freeze_time(T0):
        ok(
            "PUT",
            f"/retention/assignments/facebook/{PAGE}",
            {"dan": "GS2010-001", "note": "page of a school"},
        )

    # Archived while visible: the clock has not started; a provisional lock of a full period from now.
    record(PAGE, item, Change.ADDED, T0)
    state = retention(PAGE, item)
    assert (state["dan"], state["retain_until"]) == ("GS2010-001", None)
    first_lock = datetime.fromisoformat(state["lock_until"])
    assert first_lock >= T0 + timedelta(days=729)
    assert all(until >= first_lock - timedelta(seconds=1) for until, _ in world.locks(PAGE, item))

    # Removed three months later: retention runs two years from the removal, and every version's lock follows.
    removed = T0 + timedelta(days=90)
    record(PAGE, item, Change.REMOVED, removed)
    state = retention(PAGE, item)
    retain_until = datetime.fromisoformat(state["retain_until"])
    assert retain_until.date() == (removed.replace(year=removed.year + 2)).date()
    locks = world.locks(PAGE, item)
    assert len(locks) == 2
    assert all(until >= retain_until - timedelta(seconds=1) for until, _ in locks)
    # A photo archived with the item, locked until its retention is met.
    world.s3.put_object(
        Bucket=world.bucket,
        Key=f"attachments/facebook/{PAGE}/{item}/m1.jpg",
        Body=b"\xff\xd8jpeg bytes",
        ObjectLockMode="COMPLIANCE",
        ObjectLockRetainUntilDate=retain_until,
    )
    assert len(world.attachments(PAGE, item)) == 1

    # A hold on the page: every version gets S3's legal hold.
    with freeze_time(removed + timedelta(days=1)):
        hold = ok(
            "POST",
            "/holds",
            {
                "matter": "Doe v. District",
                "reason": "litigation notice received",
                "scope": {"accounts": [f"facebook:{PAGE}"]},
            },
        )["hold"]
        assert world.work() == 1
    assert {status for _, status in world.locks(PAGE, item)} == {"ON"}
    assert world.attachment_holds(PAGE, item) == {"ON"}  # the photo is held with the item
    assert [h["id"] for h in retention(PAGE, item)["holds"]] == [hold["id"]]
    assert len(retention(PAGE, item)["versions"]) == 3  # two events and the photo

    # Retention met, but the hold stands: nothing is proposed, and S3 itself refuses to delete a version.
    met = retain_until + timedelta(days=1)
    with freeze_time(met):
        assert ok("POST", "/disposition/sweep")["batches"] == []
        assert world.delete_first_version(PAGE, item) == "AccessDenied"

    # Released (a reason is required): the legal hold comes off; the item becomes eligible.
    with freeze_time(met):
        status, answer = call("POST", f"/holds/{hold['id']}/release", body={"reason": ""})
        assert status == 422, answer
        ok("POST", f"/holds/{hold['id']}/release", {"reason": "case settled"})
        world.work()
        assert {status for _, status in world.locks(PAGE, item)} == {"OFF"}
        assert world.attachment_holds(PAGE, item) == {"OFF"}
        swept = ok("POST", "/disposition/sweep")
        assert swept["items_read"] == 1
        [batch_id] = swept["batches"]
        batch = ok("GET", f"/disposition/batches/{batch_id}")
        assert [c["item"]["item_id"] for c in batch["items"]] == [item]

        # Approved: every version deleted (its attachments too), the index record gone, the destruction log
        # written.
        approved = ok("POST", f"/disposition/batches/{batch_id}/approve", {"note": "annual disposition"})
        assert approved["state"] == "approved"
        assert world.work() == 1
    assert world.versions(PAGE, item) == []
    assert world.attachments(PAGE, item) == []
    assert call("GET", f"/content/facebook/{PAGE}/{item}/retention")[0] == 404
    [entry] = ok("GET", "/disposition/log")["entries"]
    assert entry["dan"] == "GS2010-001"
    assert entry["series_title"].startswith("Communications")
    assert entry["item_count"] == 1
    assert entry["approved_by"] == "user:records.officer"
    assert "no legal hold" in entry["attestation"].lower()
    for field in ("minimum_retention", "dates_covered", "retention_met_on", "method", "items_sha256"):
        assert entry[field], field
    assert ok("GET", f"/disposition/batches/{batch_id}")["state"] == "executed"

    actions = [e.action for e in audit.log().for_resource(f"batch:{batch_id}", 50)]
    assert {"disposition.proposed", "disposition.approved", "disposition.executed"} <= set(actions)
    assert {"hold.placed", "hold.applied", "hold.released", "hold.lifted"} <= {
        e.action for e in audit.log().for_resource(f"hold:{hold['id']}", 50)
    }
    assert audit.verify().ok


def test_an_archival_series_is_transferred_not_deleted(world: World, tmp_path: Path) -> None:
    item = "c-200"
    record(OTHER, item, Change.ADDED, T0)  # default series GS50-01-12: archival, transfer to the archives
    record(OTHER, item, Change.REMOVED, T0 + timedelta(days=1))
    met = T0 + timedelta(days=2 + 2 * 366)
    with freeze_time(met):
        [batch_id] = ok("POST", "/disposition/sweep")["batches"]
        ok("POST", f"/disposition/batches/{batch_id}/approve")
        world.work()
    assert len(world.versions(OTHER, item)) == 2  # kept in the archive
    state = retention(OTHER, item)
    assert state["disposed"] == "transferred"
    [entry] = ok("GET", "/disposition/log")["entries"]
    assert entry["disposition"].startswith("transferred")
    assert entry["transfer_package"]["key"] == f"transfers/{batch_id}.zip"
    # The package is a valid BagIt bag whose manifest quotes the SHA-256 of each archived object as S3 keeps it
    # (not of a re-encoding), with the batch as metadata.
    data = world.s3.get_object(Bucket=world.exports, Key=f"transfers/{batch_id}.zip")["Body"].read()
    assert entry["transfer_package"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert entry["transfer_package"]["files"] == "2"
    top = f"transfer-{batch_id}"
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        bundle.extractall(tmp_path)
        manifest = bundle.read(f"{top}/manifest-sha256.txt").decode()
        batch = json.loads(bundle.read(f"{top}/data/batch.json"))
        info = bundle.read(f"{top}/bag-info.txt").decode()
    listed = dict(reversed(line.split(maxsplit=1)) for line in manifest.splitlines())
    archived = {
        f"data/{v['Key']}": hashlib.sha256(
            world.s3.get_object(Bucket=world.bucket, Key=v["Key"], VersionId=v["VersionId"])["Body"].read()
        ).hexdigest()
        for v in world.versions(OTHER, item)
    }
    assert len(archived) == 2
    assert {k: v for k, v in listed.items() if k != "data/batch.json"} == archived
    assert (
        listed["data/batch.json"]
        == hashlib.sha256((tmp_path / top / "data" / "batch.json").read_bytes()).hexdigest()
    )
    assert batch["id"] == batch_id
    assert [c["item"]["item_id"] for c in batch["items"]] == [item]
    assert f"External-Identifier: {batch_id}" in info
    assert "Item-Count: 1" in info
    assert bagit.Bag(str(tmp_path / top)).is_valid()
    with freeze_time(met + timedelta(days=1)):
        assert ok("POST", "/disposition/sweep")["batches"] == []  # never proposed again


def test_a_hold_placed_after_the_proposal_drops_the_item_from_the_batch(world: World) -> None:
    with freeze_time(T0):
        ok("PUT", f"/retention/assignments/facebook/{PAGE}", {"dan": "GS2010-001"})
    for item in ("c-1", "c-2"):
        record(PAGE, item, Change.ADDED, T0)
        record(PAGE, item, Change.REMOVED, T0 + timedelta(days=1))
    met = T0 + timedelta(days=2 + 2 * 366)
    with freeze_time(met):
        [batch_id] = ok("POST", "/disposition/sweep")["batches"]
        ok(
            "POST",
            "/holds",
            {
                "matter": "PRR 2028-14",
                "reason": "records request",
                "scope": {"item_ids": [f"facebook:{PAGE}:c-2"]},
            },
        )
        world.work()
        approved = ok("POST", f"/disposition/batches/{batch_id}/approve")
        assert [c["item"]["item_id"] for c in approved["items"]] == ["c-1"]
        assert [d["item"] for d in approved["dropped"]] == [f"facebook:{PAGE}:c-2"]
        assert "hold" in approved["dropped"][0]["reason"]
        world.work()
    assert world.versions(PAGE, "c-1") == []
    assert len(world.versions(PAGE, "c-2")) == 2  # nothing under hold is ever deleted


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "words"),
    [
        ("POST", "/holds", {"matter": "m", "reason": "why not", "scope": {}}, 400, "scope"),
        (
            "POST",
            "/holds",
            {
                "matter": "m",
                "reason": "why not",
                "scope": {
                    "accounts": [f"facebook:{PAGE}"],
                    "date_from": "2026-05-01T00:00:00Z",
                    "date_to": "2026-04-01T00:00:00Z",
                },
            },
            400,
            "order",
        ),
        ("PUT", f"/retention/assignments/facebook/{PAGE}", {"dan": "NO-SUCH-1"}, 400, "series"),
        ("POST", "/disposition/batches/20260101T000000-0123456789ab/approve", {}, 404, "batch"),
        ("POST", "/holds/0123456789abcdef0123456789abcdef/release", {"reason": "done here"}, 404, "hold"),
    ],
)
def test_bad_requests_are_refused_and_change_nothing(
    world: World, method: str, path: str, body: Any, status: int, words: str
) -> None:
    before = len(audit.log().for_resource("retention:schedule", 50))
    got, answer = call(method, path, body=body)
    assert got == status, answer
    assert words in answer["message"].lower()
    assert len(audit.log().for_resource("retention:schedule", 50)) == before


def test_only_records_changes_retention(world: World) -> None:
    for roles in (("communications",), ("it",), ("moderators",), ("principals",), ("staff",)):
        status, answer = call("PUT", f"/retention/assignments/facebook/{PAGE}", roles, {"dan": "GS2010-001"})
        assert status == 403, answer
    status, schedule = call("GET", "/retention/schedule", ("communications",))
    assert status == 200
    assert schedule["version"] == 1


def test_schedule_changes_are_versioned_and_audited(world: World) -> None:
    series = {
        "title": "Communications - Non-Executive (district override)",
        "description": "Routine communications",
        "retention_years": 3,
        "trigger": "received_or_provided",
        "disposition": "destroy",
        "archival": False,
        "jurisdiction": "WA",
        "note": "board resolution 2026-14",
    }
    with freeze_time(T0):
        changed = ok("PUT", "/retention/series/GS2010-001", series)
    assert changed["version"] == 2
    assert ok("GET", "/retention/schedule")["version"] == 2
    old = ok("GET", "/retention/schedule/versions/1")
    assert next(s for s in old["series"] if s["dan"] == "GS2010-001")["retention_years"] == 2
    entries = audit.log().for_resource("retention:schedule", 50)
    assert [(e.action, e.details["version"]) for e in entries] == [("retention.series_changed", 2)]
    # An archival series must be transferred, not destroyed: refused, nothing written.
    status, answer = call("PUT", "/retention/series/GS50-01-12", body={**series, "archival": True})
    assert status == 400, answer
    assert ok("GET", "/retention/schedule")["version"] == 2
    # Items archived from now on record the version that governed them.
    with freeze_time(T0):
        ok("PUT", f"/retention/assignments/facebook/{PAGE}", {"dan": "GS2010-001"})
    record(PAGE, "c-9", Change.ADDED, T0)
    state = retention(PAGE, "c-9")
    assert (state["dan"], state["schedule_version"]) == ("GS2010-001", 3)


def test_versions_archived_later_under_a_hold_are_held_and_a_release_keeps_other_holds(world: World) -> None:
    scope = {"accounts": [f"facebook:{PAGE}"]}
    with freeze_time(T0):
        first = ok("POST", "/holds", {"matter": "Doe v. District", "reason": "notice", "scope": scope})[
            "hold"
        ]
        second = ok(
            "POST",
            "/holds",
            {"matter": "PRR 2026-3", "reason": "request", "scope": {"item_ids": [f"facebook:{PAGE}:c-5"]}},
        )["hold"]
        world.work()
    # Archived after the holds: S3 gets the legal hold with the version itself.
    record(PAGE, "c-5", Change.ADDED, T0 + timedelta(hours=1))
    record(PAGE, "c-6", Change.ADDED, T0 + timedelta(hours=1))
    assert {s for _, s in world.locks(PAGE, "c-5")} == {"ON"}
    assert {s for _, s in world.locks(PAGE, "c-6")} == {"ON"}
    assert sorted(h["id"] for h in retention(PAGE, "c-5")["holds"]) == sorted([first["id"], second["id"]])

    # Releasing the account-wide hold: c-6 is free, c-5 stays held by the other one.
    with freeze_time(T0 + timedelta(days=1)):
        ok("POST", f"/holds/{first['id']}/release", {"reason": "case dismissed"})
        world.work()
    assert {s for _, s in world.locks(PAGE, "c-6")} == {"OFF"}
    assert {s for _, s in world.locks(PAGE, "c-5")} == {"ON"}
    assert [h["id"] for h in retention(PAGE, "c-5")["holds"]] == [second["id"]]
    status, answer = call("POST", f"/holds/{first['id']}/release", body={"reason": "again"})
    assert status == 409, answer


def test_the_scheduled_sweep_holds_a_version_archived_while_the_hold_was_being_applied(world: World) -> None:
    from functions.retention_worker.handler import handler as worker
    from shared.store import records_store

    with freeze_time(T0):
        ok(
            "POST",
            "/holds",
            {"matter": "Doe v. District", "reason": "notice", "scope": {"accounts": [f"facebook:{PAGE}"]}},
        )
        world.work()
    # A processor that read the holds just before this one was placed archives a comment without the hold.
    schedule, _ = records_store.governing()
    records_store.CACHE._schedule, records_store.CACHE._holds = schedule, []
    records_store.CACHE._at = float("inf")
    record(PAGE, "late", Change.ADDED, T0 + timedelta(seconds=1))
    records_store.CACHE.clear()
    assert {s for _, s in world.locks(PAGE, "late")} == {"OFF"}

    # The scheduled run applies recent holds again before it proposes anything.
    with freeze_time(T0 + timedelta(hours=1)):
        summary = worker(
            {"id": "scheduled-1", "source": "aws.events", "detail-type": "Scheduled Event"}, FakeContext()
        )
    assert {s for _, s in world.locks(PAGE, "late")} == {"ON"}
    run = runs.run_of("disposition-sweep", summary["run"])
    assert (run.state, run.actions) == (RunState.SUCCEEDED, len(summary["batches"]))
    assert run.seen == summary["items_read"]
