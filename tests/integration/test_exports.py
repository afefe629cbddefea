"""A public-records request answered end to end on moto: the comments are archived (one removed, one edited, one
hidden), the request's scope is held automatically, a search finds the removed and edited-away words, the export
job builds a redacted BagIt package, the download is audited, and an independent check (the ``bagit`` library's
validation of the unzipped package, plus SHA-256 recomputed for every file) passes, while one changed byte makes
it fail. Then the refusals: bad queries, closed and unknown requests, foreign, unready and expired exports, roles."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import parse_qs, urlparse

import bagit
import boto3
import pytest
from freezegun import freeze_time

import functions.export_worker.handler
import functions.retention_worker.handler  # noqa: F401
from infrastructure.local.provision import Provisioned
from shared import audit, catalogue, export_service, ingest
from shared.domain.content import Change
from shared.errors import Unavailable
from shared.store import audit_log
from tests.conftest import REGION
from tests.integration.conftest import QueueWorker
from tests.integration.test_retention import PAGE, call, ok
from tests.integration.test_search import event

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

MARCH = datetime(2026, 3, 9, 16, tzinfo=UTC)
NOW = datetime(2026, 6, 15, 17, tzinfo=UTC)
PHONE, EMAIL, STUDENT = "(509) 555-0142", "pat.parent@example.com", "Zoë Example"
REQUEST = {
    "requester": "J. Smith",
    "received_on": "2026-06-15",
    "text": "All comments on the high school's Facebook page mentioning the bond measure between March and May, "
    "including deleted ones",
    "jurisdiction": "WA",
}
QUERY = {
    "account": f"facebook:{PAGE}",
    "date_from": "2026-03-01T00:00:00Z",
    "date_to": "2026-05-31T23:59:59Z",
    "keyword": "bond",
}
REDACT = {"categories": ["phone", "email", "address", "name"], "names": ["Zoe Example"]}


class World:
    def __init__(self, env: Provisioned) -> None:
        self.s3 = boto3.client("s3", region_name=REGION)
        self.archive = env.env[catalogue.bucket("archive").env_var]
        self.exports = env.env[catalogue.bucket("exports").env_var]
        self.holds = QueueWorker(env, "retention-worker")
        self.builder = QueueWorker(env, "export-worker")

    def package(self, export: dict[str, Any]) -> bytes:
        body: bytes = self.s3.get_object(Bucket=self.exports, Key=export["key"])["Body"].read()
        return body


@pytest.fixture
def world(moto_env: Provisioned) -> World:
    audit.reset()
    return World(moto_env)


def archive_the_page() -> None:
    day = timedelta(days=1)
    events = [
        event("post-1", Change.ADDED, MARCH, "Bond measure town hall on Thursday", kind="post", author=PAGE),
        event("c-1", Change.ADDED, MARCH + day, f"Call me about the bond at {PHONE} or {EMAIL}"),
        event("c-2", Change.ADDED, MARCH + 2 * day, "The Bond Measure is a waste", author="u2"),
        event("c-2", Change.REMOVED, MARCH + 3 * day),
        event("c-3", Change.ADDED, MARCH + 4 * day, "I will vote no on the bond", author="u3"),
        event("c-3", Change.EDITED, MARCH + 5 * day, "I will vote yes", author="u3"),
        event("c-4", Change.ADDED, MARCH + 6 * day, "Bond money for 123 Main Street, Spokane, WA 99201?"),
        event("c-4", Change.HIDDEN, MARCH + 7 * day),
        event(
            "c-5",
            Change.ADDED,
            MARCH + 8 * day,
            f"{STUDENT} spoke about the bond at the board meeting",
            parent_id="c-1",
            author="u5",
        ),
        event("c-6", Change.ADDED, MARCH + 9 * day, "Go team!"),
        event("c-7", Change.ADDED, datetime(2026, 6, 2, tzinfo=UTC), "Bond passed!"),  # after May
    ]
    for e in events:
        ingest.record(e, e.occurred_at)


def unzip(data: bytes, into: Path) -> Path:
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        names = bundle.namelist()
        assert all(not n.startswith("/") and ".." not in n for n in names)
        bundle.extractall(into)
    (top,) = {n.split("/", 1)[0] for n in names}
    return into / top


def independently_valid(bag_dir: Path) -> bool:
    """The check anyone can run: bagit's own validation, and every manifest line recomputed with hashlib (and
    every payload file listed)."""
    try:
        bagit.Bag(str(bag_dir)).validate(completeness_only=False)
    except bagit.BagValidationError:
        return False
    listed: set[str] = set()
    for manifest in ("manifest-sha256.txt", "tagmanifest-sha256.txt"):
        for line in (bag_dir / manifest).read_text().splitlines():
            digest, name = line.split(maxsplit=1)
            if hashlib.sha256((bag_dir / name).read_bytes()).hexdigest() != digest:
                return False
            listed.add(name)
    payload = {str(p.relative_to(bag_dir)) for p in (bag_dir / "data").rglob("*") if p.is_file()}
    return payload <= listed


def lines(path: Path) -> Iterator[dict[str, Any]]:
    for line in path.read_text(encoding="utf-8").splitlines():
        yield json.loads(line)


def test_a_request_is_answered_end_to_end_with_a_redacted_verifiable_package(
    world: World, tmp_path: Path
) -> None:
    archive_the_page()
    with freeze_time(NOW):
        view = ok("POST", "/requests", {**REQUEST, "scope": {"accounts": [f"facebook:{PAGE}"]}})
        rid = view["request"]["id"]
        assert view["hold"]["kind"] == "records_request"
        world.holds.work()

    # The automatic hold: every version of every item in scope is under S3 legal hold.
    versions = world.s3.list_object_versions(Bucket=world.archive, Prefix=f"events/facebook/{PAGE}/")[
        "Versions"
    ]
    for v in versions:
        head = world.s3.head_object(Bucket=world.archive, Key=v["Key"], VersionId=v["VersionId"])
        assert head["ObjectLockLegalHoldStatus"] == "ON", v["Key"]

    # The search finds the removed comment and the word edited away, not June's or the one without the word.
    search = {**{k: v for k, v in QUERY.items() if k != "keyword"}, "q": QUERY["keyword"], "limit": "100"}
    found = ok("GET", "/search?" + "&".join(f"{k}={v}" for k, v in search.items()))
    assert {h["item_id"] for h in found["hits"]} == {"post-1", "c-1", "c-2", "c-3", "c-4", "c-5"}
    by_id = {h["item_id"]: h for h in found["hits"]}
    assert by_id["c-2"]["state"] == "removed"
    assert [v["matched"] for v in by_id["c-3"]["versions"]] == [True, False]

    with freeze_time(NOW + timedelta(hours=1)):
        export = ok(
            "POST", f"/requests/{rid}/exports", {**QUERY, "redact": REDACT, "note": "first installment"}
        )
        assert export["state"] == "queued"
        assert world.builder.work() == 1
        export = ok("GET", f"/requests/{rid}/exports/{export['id']}")
    assert export["state"] == "ready", export
    assert (export["items"], export["versions"], export["audit_verified"]) == (6, 9, True)
    assert export["redactions"] >= 4

    with freeze_time(NOW + timedelta(hours=2)):
        link = ok("POST", f"/requests/{rid}/exports/{export['id']}/download")
    url = urlparse(link["url"])
    assert url.path.endswith(export["key"])
    assert parse_qs(url.query)["X-Amz-Expires"] == ["300"]
    assert datetime.fromisoformat(link["expires_at"]) == NOW + timedelta(hours=2, minutes=5)
    data = world.package(export)
    assert hashlib.sha256(data).hexdigest() == export["sha256"] == link["sha256"]
    assert len(data) == export["size"]

    bag = unzip(data, tmp_path / "once")
    assert independently_valid(bag)
    info = bagit.Bag(str(bag)).info
    assert info["Source-Organization"] == "Steward School District"
    assert info["External-Identifier"] == rid
    assert info["Item-Count"] == "6"
    assert info["Date-Range-Of-Items"].startswith("2026-03-09")

    # Items with every version; the word edited away is in the first version of c-3.
    items = {i["item_id"]: i for i in lines(bag / "data" / "items.jsonl")}
    assert set(items) == {"post-1", "c-1", "c-2", "c-3", "c-4", "c-5"}
    assert [v["text"] for v in items["c-3"]["versions"]] == ["I will vote no on the bond", "I will vote yes"]
    assert items["c-2"]["state"] == "removed"
    assert items["c-3"]["edited"]
    assert items["c-4"]["state"] == "hidden"
    assert all(v["archive_sha256"] for i in items.values() for v in i["versions"])
    rows = list(csv.DictReader((bag / "data" / "items.csv").open(encoding="utf-8", newline="")))
    assert len(rows) == 9

    # Redacted in the package, citing the exemption; the archive keeps the original.
    c1 = items["c-1"]["versions"][0]["text"]
    assert PHONE not in c1
    assert EMAIL not in c1
    assert "[REDACTED phone — RCW 42.56.230(1)" in c1
    assert STUDENT not in items["c-5"]["versions"][0]["text"]
    assert "[REDACTED address" in items["c-4"]["versions"][0]["text"]
    original = world.s3.get_object(Bucket=world.archive, Key=items["c-1"]["versions"][0]["archive_key"])
    original_bytes = original["Body"].read()
    assert PHONE in json.loads(original_bytes)["text"]
    assert hashlib.sha256(original_bytes).hexdigest() == items["c-1"]["versions"][0]["archive_sha256"]
    log = list(csv.DictReader((bag / "data" / "redaction-log.csv").open(encoding="utf-8", newline="")))
    assert {(r["item"].rsplit(":", 1)[1], r["category"]) for r in log} >= {
        ("c-1", "phone"),
        ("c-1", "email"),
        ("c-4", "address"),
        ("c-5", "name"),
    }
    assert all(r["exemption"] for r in log)
    phone = next(r for r in log if r["category"] == "phone")
    assert f"Call me about the bond at {PHONE}"[int(phone["start"]) : int(phone["end"])] == PHONE

    # The thread page marks the removed, hidden and edited items; nothing unredacted leaks into any file.
    page = (bag / "data" / "threads" / "facebook" / PAGE / "post-1.html").read_text(encoding="utf-8")
    for mark in ("REMOVED", "HIDDEN", "EDITED"):
        assert mark in page
    assert page.index("c-1") < page.index("c-5")  # in order, the reply after its comment
    everything = "".join(p.read_text(encoding="utf-8") for p in (bag / "data").rglob("*") if p.is_file())
    assert PHONE not in everything
    assert EMAIL not in everything
    assert STUDENT not in everything

    # The chain of custody: the verification, every item's recording entries, the request's own entries.
    custody = list(lines(bag / "data" / "chain-of-custody.jsonl"))
    assert custody[0]["record"] == "verification"
    assert custody[0]["ok"] is True
    entries = {c["locator"]: c for c in custody if c["record"] == "entry"}
    for item in (c for c in custody if c["record"] == "item"):
        assert item["entries"]
        assert all(loc in entries for loc in item["entries"])
    assert any(e["action"] == "request.created" for e in entries.values())

    # One changed byte anywhere in the payload fails the check; so does one in the zip against its SHA-256.
    tampered = unzip(data, tmp_path / "tampered")
    target = tampered / "data" / "items.csv"
    raw = bytearray(target.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    target.write_bytes(bytes(raw))
    assert not independently_valid(tampered)
    flipped = bytearray(data)
    flipped[len(flipped) // 2] ^= 0x01
    assert hashlib.sha256(bytes(flipped)).hexdigest() != export["sha256"]

    actions = [e.action for e in audit.log().for_resource(f"request:{rid}", 100)]
    assert {"request.created", "export.requested", "export.built", "export.downloaded"} <= set(actions)
    downloaded = next(
        e for e in audit.log().for_resource(f"request:{rid}", 100) if e.action == "export.downloaded"
    )
    assert downloaded.actor.endswith("records.officer")
    assert downloaded.details["sha256"] == export["sha256"]
    assert "url" not in json.dumps(downloaded.details)
    requested = next(
        e for e in audit.log().for_resource(f"request:{rid}", 100) if e.action == "export.requested"
    )
    assert "Zoe" not in json.dumps(
        requested.details
    )  # the audit trail keeps a digest of the names, not the names
    assert audit.verify().ok


def test_attachments_archived_with_an_item_are_in_the_package(world: World, tmp_path: Path) -> None:
    photo = {"kind": "photo", "url": "https://example.org/p.jpg", "id": "m1"}
    e = event("c-9", Change.ADDED, MARCH, "Bond flyer attached", media=(photo,))
    ingest.record(e, e.occurred_at)
    world.s3.put_object(
        Bucket=world.archive,
        Key=f"attachments/facebook/{PAGE}/c-9/m1.jpg",
        Body=b"\xff\xd8jpeg bytes",
        ObjectLockMode="COMPLIANCE",
        ObjectLockRetainUntilDate=NOW + timedelta(days=800),
    )
    with freeze_time(NOW):
        rid = ok("POST", "/requests", REQUEST)["request"]["id"]
        export = ok("POST", f"/requests/{rid}/exports", QUERY)
        world.builder.work()
        export = ok("GET", f"/requests/{rid}/exports/{export['id']}")
    bag = unzip(world.package(export), tmp_path)
    assert independently_valid(bag)
    assert (
        bag / "data" / "attachments" / "facebook" / PAGE / "c-9" / "m1.jpg"
    ).read_bytes() == b"\xff\xd8jpeg bytes"
    assert not (bag / "data" / "redaction-log.csv").exists()  # no redaction asked for
    assert bagit.Bag(str(bag)).info["Redacted"] == "no"


def test_a_failing_build_is_retried_then_marked_failed_and_audited(world: World) -> None:
    archive_the_page()
    with freeze_time(NOW):
        rid = ok("POST", "/requests", REQUEST)["request"]["id"]
        export = ok("POST", f"/requests/{rid}/exports", QUERY)
    broken = mock.patch.object(export_service.exports, "upload", side_effect=Unavailable("S3 is down"))
    with broken, pytest.raises(Unavailable):
        export_service.build(rid, export["id"])
    again = ok("GET", f"/requests/{rid}/exports/{export['id']}")
    assert (again["state"], again["attempts"], again["error"]) == ("building", 1, "S3 is down")
    status, answer = call("POST", f"/requests/{rid}/exports/{export['id']}/download")
    assert status == 409
    assert "building" in answer["message"]
    for _ in range(catalogue.queue("exports").max_receive_count - 1):
        with broken, pytest.raises(Unavailable):
            export_service.build(rid, export["id"])
    failed = ok("GET", f"/requests/{rid}/exports/{export['id']}")
    assert failed["state"] == "failed"
    assert export_service.build(rid, export["id"])["skipped"] is True
    assert "export.failed" in [e.action for e in audit.log().for_resource(f"request:{rid}", 50)]
    listed = world.s3.list_objects_v2(Bucket=world.exports, Prefix="exports/")
    assert listed.get("KeyCount", 0) == 0


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (
            {"date_from": "2026-03-01T00:00:00Z", "date_to": "2026-05-01T00:00:00Z"},
            422,
            "exactly one account",
        ),
        ({**QUERY, "date_to": "2028-01-01T00:00:00Z"}, 422, "spans more than"),
        ({**QUERY, "date_to": "2026-05-31T23:59:59"}, 422, "needs its offset"),
        ({**QUERY, "date_from": "2026-06-01T00:00:00Z"}, 422, "after date_to"),
        ({**QUERY, "redact": {"categories": ["name"]}}, 400, "needs a list of names"),
        ({**QUERY, "redact": {"categories": ["ssn"]}}, 400, "unknown redaction category"),
        ({**QUERY, "redact": {"categories": ["phone"], "names": ["Zoe Example"]}}, 400, "'name' category"),
        ({**QUERY, "states": ["deleted"]}, 422, "states"),
        ({**QUERY, "extra": 1}, 422, "extra"),
    ],
)
def test_a_bad_export_is_refused_and_changes_nothing(
    world: World, body: dict[str, Any], status: int, words: str
) -> None:
    with freeze_time(NOW):
        rid = ok("POST", "/requests", REQUEST)["request"]["id"]
        got, answer = call("POST", f"/requests/{rid}/exports", body=body)
    assert got == status, answer
    assert words in json.dumps(answer)
    assert ok("GET", f"/requests/{rid}/exports")["exports"] == []


def test_downloads_of_foreign_unready_or_expired_exports_and_other_roles_are_refused(world: World) -> None:
    archive_the_page()
    with freeze_time(NOW):
        mine = ok("POST", "/requests", REQUEST)["request"]["id"]
        other = ok("POST", "/requests", REQUEST)["request"]["id"]
        export = ok("POST", f"/requests/{mine}/exports", QUERY)
        status, answer = call("POST", f"/requests/{mine}/exports/{export['id']}/download")
        assert status == 409
        assert "queued" in answer["message"]
        world.builder.work()
        status, answer = call("POST", f"/requests/{other}/exports/{export['id']}/download")
        assert status == 404
        assert f"request {other} has no export" in answer["message"]
        for role in ("communications", "moderators", "it"):
            status, _ = call("POST", f"/requests/{mine}/exports/{export['id']}/download", roles=(role,))
            assert status == 403
            status, _ = call("POST", f"/requests/{mine}/exports", roles=(role,), body=QUERY)
            assert status == 403
        status, answer = call("POST", "/requests/20260101-0000abcd/exports", body=QUERY)
        assert status == 404
    downloads = [
        e for e in audit.log().for_resource(f"request:{mine}", 50) if e.action == "export.downloaded"
    ]
    assert downloads == []
    with freeze_time(NOW + timedelta(days=catalogue.EXPORT_PACKAGE_DAYS, hours=1)):
        status, answer = call("POST", f"/requests/{mine}/exports/{export['id']}/download")
    assert status == 410
    assert "expired" in answer["message"]
    with freeze_time(NOW + timedelta(days=1)):
        ok("POST", f"/requests/{other}/close", {"closure": "withdrawn", "closed_on": "2026-06-16"})
        status, answer = call("POST", f"/requests/{other}/exports", body=QUERY)
    assert status == 409
    assert "closed" in answer["message"]


def test_an_export_that_cannot_be_queued_is_recorded_as_failed(world: World) -> None:
    with freeze_time(NOW):
        rid = ok("POST", "/requests", REQUEST)["request"]["id"]
        down = mock.patch.object(export_service.queues, "send", side_effect=Unavailable("SQS is down"))
        with down:
            status, answer = call("POST", f"/requests/{rid}/exports", body=QUERY)
        assert status == 503, answer
        [failed] = ok("GET", f"/requests/{rid}/exports")["exports"]
    assert failed["state"] == "failed"
    assert failed["error"] == "the build could not be queued; request the export again"


def test_every_audit_entry_of_the_request_is_in_the_chain_of_custody(world: World, tmp_path: Path) -> None:
    archive_the_page()
    with freeze_time(NOW):  # one entry a minute: the trail's order (by time) is certain
        rid = ok("POST", "/requests", REQUEST)["request"]["id"]
    with freeze_time(NOW + timedelta(minutes=1)):
        ok("POST", f"/requests/{rid}/acknowledge")
    with freeze_time(NOW + timedelta(minutes=2)):
        ok("POST", f"/requests/{rid}/start")
    with freeze_time(NOW + timedelta(minutes=3)):
        export = ok("POST", f"/requests/{rid}/exports", QUERY)
        with mock.patch.object(audit_log, "RESOURCE_PAGE", 1):  # one entry per read: every page is followed
            world.builder.work()
        export = ok("GET", f"/requests/{rid}/exports/{export['id']}")
    bag = unzip(world.package(export), tmp_path)
    assert independently_valid(bag)
    custody = list(lines(bag / "data" / "chain-of-custody.jsonl"))
    request_entries = [c for c in custody if c["record"] == "entry" and c["resource"] == f"request:{rid}"]
    assert [e["action"] for e in request_entries] == [
        "request.created",
        "request.acknowledged",
        "request.started",
        "export.requested",
    ]
