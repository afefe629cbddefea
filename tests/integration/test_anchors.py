"""Anchors in the write-once bucket (moto S3 with Object Lock)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from functions.audit_anchor.handler import handler as scheduled_anchor
from shared import audit, runs
from shared.domain.anchor import AnchorDocument
from shared.domain.runs import RunState
from shared.errors import Unavailable
from shared.store import aws
from tests.conftest import FakeContext
from tests.integration.conftest import Stores, inject_error

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

RETENTION = timedelta(days=3653)


@pytest.fixture
def two_chains(chains: Callable[[int], None], fresh_audit: None) -> None:
    chains(2)


def anchor_objects(stores: Stores) -> list[dict[str, object]]:
    return [v for v in stores.object_versions() if "VersionId" in v and "ETag" in v]


def test_each_anchor_is_one_new_object_under_compliance_retention(two_chains: None, stores: Stores) -> None:
    # Given some entries
    for i in range(3):
        audit.append("user:a", "x.y", f"r:{i}")

    # When anchored twice
    first = audit.anchor("user:records", "first")
    second = audit.anchor("user:records", "second")

    # Then there are two objects, one version each, both locked in COMPLIANCE mode for the retention period
    objects = anchor_objects(stores)
    assert sorted(o["Key"] for o in objects) == sorted([first.key, second.key])
    assert first.key != second.key
    for result in (first, second):
        head = stores.s3.head_object(Bucket=stores.bucket, Key=result.key)
        assert head["ObjectLockMode"] == "COMPLIANCE"
        anchored_at = datetime.fromisoformat(result.anchored_at)
        assert abs(head["ObjectLockRetainUntilDate"] - (anchored_at + RETENTION)) < timedelta(seconds=1)


def test_an_anchor_version_cannot_be_deleted(two_chains: None, stores: Stores) -> None:
    # Given an anchor
    result = audit.anchor("user:records", "first")
    version = stores.s3.head_object(Bucket=stores.bucket, Key=result.key)["VersionId"]

    # When its version is deleted, even asking to bypass governance
    for extra in ({}, {"BypassGovernanceRetention": True}):
        with pytest.raises(ClientError) as refused:
            stores.s3.delete_object(Bucket=stores.bucket, Key=result.key, VersionId=version, **extra)

        # Then S3 refuses and the object is still there
        assert refused.value.response["Error"]["Code"] == "AccessDenied"
    body = stores.s3.get_object(Bucket=stores.bucket, Key=result.key, VersionId=version)["Body"].read()
    assert hashlib.sha256(body).hexdigest() == result.sha256


def test_each_anchor_links_to_the_one_before_with_its_sha256(two_chains: None, stores: Stores) -> None:
    first = audit.anchor("user:records", "first")
    second = audit.anchor("user:it", "second")

    first_bytes = stores.s3.get_object(Bucket=stores.bucket, Key=first.key)["Body"].read()
    doc = AnchorDocument.model_validate_json(
        stores.s3.get_object(Bucket=stores.bucket, Key=second.key)["Body"].read()
    )

    assert first.previous is None
    assert second.previous == first.key
    assert doc.previous is not None
    assert (doc.previous.key, doc.previous.sha256) == (first.key, hashlib.sha256(first_bytes).hexdigest())
    assert first.sha256 == hashlib.sha256(first_bytes).hexdigest()


def test_an_anchor_records_every_chain_head_and_is_itself_audited(two_chains: None, stores: Stores) -> None:
    # Given entries on the chains
    for i in range(5):
        audit.append("user:a", "x.y", f"r:{i}")
    heads = audit.log().heads()

    # When anchored
    result = audit.anchor("user:records", "board meeting")

    # Then the document holds every chain's head at the time
    doc = json.loads(stores.s3.get_object(Bucket=stores.bucket, Key=result.key)["Body"].read())
    assert doc["chains"] == [{"chain": h.chain, "seq": h.seq, "hash": h.hash} for h in heads]
    assert (doc["reason"], doc["organization"]) == ("board meeting", "Steward School District")
    # ... and an audit.anchored entry names it
    entries = audit.log().for_resource(f"audit-anchor:{result.key}")
    assert [(e.id, e.actor, e.action) for e in entries] == [
        (result.audit_entry, "user:records", "audit.anchored")
    ]
    assert entries[0].details == {"sha256": result.sha256, "reason": "board meeting"}
    # ... and everything verifies against it
    report = audit.verify()
    assert report.ok
    assert report.anchors.count == 1
    assert sum(c.anchors_checked for c in report.chains) == sum(1 for h in heads if h.seq > 0)


def test_an_anchor_key_is_never_written_twice(two_chains: None, stores: Stores) -> None:
    result = audit.anchor("user:records", "first")
    doc = AnchorDocument.model_validate_json(
        stores.s3.get_object(Bucket=stores.bucket, Key=result.key)["Body"].read()
    )

    with pytest.raises(Unavailable):
        audit.anchors().put(
            result.key, doc.model_copy(update={"reason": "again"}), datetime.fromisoformat(doc.anchored_at)
        )

    assert len(anchor_objects(stores)) == 1


def test_a_failed_anchor_write_appends_no_entry(two_chains: None, stores: Stores) -> None:
    audit.append("user:a", "x.y", "r:1")
    injected = inject_error(aws.s3(), "PutObject", "InternalError")

    with pytest.raises(Unavailable, match="anchor could not be written"):
        audit.anchor("user:records", "first")

    assert injected.calls == 1
    assert anchor_objects(stores) == []
    assert len(stores.items()) == 1


def test_the_scheduled_anchor_writes_one_anchor(
    two_chains: None, stores: Stores, lambda_context: FakeContext
) -> None:
    summary = scheduled_anchor({"source": "aws.scheduler", "detail": {}}, lambda_context)

    assert summary["chains"] == 2
    assert [o["Key"] for o in anchor_objects(stores)] == [summary["anchor"]]
    entries = audit.log().for_resource(f"audit-anchor:{summary['anchor']}")
    assert [e.actor for e in entries] == ["system:audit-anchor"]
    run = runs.run_of("audit-anchor", summary["run"])
    assert (run.state, run.seen, run.actions) == (RunState.SUCCEEDED, 2, 1)
    assert run.summary == {"anchor": summary["anchor"], "chains": 2}


def test_a_scheduled_anchor_that_fails_records_its_failed_run(
    two_chains: None, stores: Stores, lambda_context: FakeContext
) -> None:
    inject_error(aws.s3(), "PutObject", "InternalError")
    with pytest.raises(Unavailable):
        scheduled_anchor({"source": "aws.scheduler", "detail": {}}, lambda_context)
    [run] = runs.runs_of("audit-anchor", limit=1).runs
    assert run.state is RunState.FAILED
    assert run.error == "the audit anchor could not be written"


def test_an_anchor_whose_entry_failed_gets_it_from_the_next_anchor(
    two_chains: None, stores: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.store.audit_log import AuditItem

    # Given an anchor that was written, but whose audit entry could not be (DynamoDB failed after S3)
    audit.append("user:a", "x.y", "r:1")
    audit.log().heads()  # bind the model so its client exists
    inject_error(AuditItem._get_connection().connection.client, "PutItem", "InternalServerError")
    with pytest.raises(Unavailable):
        audit.anchor("user:records", "first")
    [orphan] = [o["Key"] for o in anchor_objects(stores)]
    assert audit.log().for_resource(f"audit-anchor:{orphan}") == []

    # When DynamoDB is back and the next anchor is written (past the index's settling time)
    aws.reset()
    monkeypatch.setattr(audit, "LATE_ENTRY_AFTER", timedelta(0))
    audit.anchor("user:records", "second")

    # Then the orphan has its entry, marked as recorded late, and the trail verifies
    [late] = audit.log().for_resource(f"audit-anchor:{orphan}")
    assert late.details["recorded_late"] is True
    assert (
        late.details["sha256"]
        == hashlib.sha256(stores.s3.get_object(Bucket=stores.bucket, Key=orphan)["Body"].read()).hexdigest()
    )
    assert audit.verify().ok


def test_a_recent_anchor_is_not_given_a_second_entry(two_chains: None, stores: Stores) -> None:
    first = audit.anchor("user:records", "first")
    audit.anchor("user:records", "second")
    assert len(audit.log().for_resource(f"audit-anchor:{first.key}")) == 1
