"""Deliveries through the receiver and the processor on moto: archived once, indexed, audited, converged."""

from __future__ import annotations

import json
import random
from typing import Any

import boto3
import pytest

from infrastructure.local.lambdas import Lambdas
from infrastructure.local.poller import QueuePoller
from infrastructure.local.provision import Provisioned, local_secret_values
from shared import audit, catalogue, ingest
from shared.domain import webhooks
from shared.domain.webhooks import Platform
from shared.store.content_store import ContentStore
from tests.conftest import REGION
from tests.events import rest_event
from tests.fixtures import WEBHOOKS, fixture

SECRET = {
    "meta": ("meta-app", "app_secret"),
    "x": ("x-app", "consumer_secret"),
    "youtube": ("websub", "secret"),
}


def platform_of(name: str) -> Platform:
    return "youtube" if name.startswith("yt_") else "x" if name.startswith("x_") else "meta"


# Every fixture that is a delivery as the platform sends it (the doc's array wrapper and the
# trimmed Instagram capture are read too: the adapters accept them).
DELIVERIES = sorted(p.name for p in WEBHOOKS.iterdir() if p.suffix in (".json", ".xml"))


class Pipeline:
    def __init__(self, env: Provisioned) -> None:
        self.env = env
        self.lambdas = Lambdas(REGION)
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.s3 = boto3.client("s3", region_name=REGION)
        self.ddb = boto3.client("dynamodb", region_name=REGION)
        spec = catalogue.function("processor")
        self.poller = QueuePoller(self.sqs, spec, env.queue_urls["intake"], self.lambdas.invoke, REGION, 0)

    def deliver(self, name: str, body: bytes | None = None) -> int:
        platform = platform_of(name)
        raw = fixture(name) if body is None else body
        key, field = SECRET[platform]
        signature = webhooks.expected_signature(platform, local_secret_values(key)[field], raw)
        event = rest_event(
            "POST",
            f"/webhooks/{platform}",
            roles=None,
            raw_body=raw,
            headers={webhooks.SIGNATURE_HEADERS[platform]: signature},
        )
        return int(self.lambdas.invoke("webhooks", event)["statusCode"])

    def drain(self) -> None:
        while self.poller.poll_once():
            pass

    def archive(self) -> dict[str, bytes]:
        bucket = self.env.env[catalogue.bucket("archive").env_var]
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
        return {k: self.s3.get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys}

    def index(self) -> dict[str, Any]:
        table = self.env.env[catalogue.table("content").env_var]
        pages = self.ddb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True)  # tests only
        items = [item for page in pages for item in page["Items"]]
        # Content items only (an account's latest-activity record shares the table).
        return {i["pk"]["S"]: json.loads(i["history"]["S"]) for i in items if "history" in i}

    def dead_letters(self) -> list[dict[str, Any]]:
        return self.sqs.receive_message(
            QueueUrl=self.env.dlq_urls["intake"], MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", [])


@pytest.fixture
def pipeline(moto_env: Provisioned) -> Pipeline:
    return Pipeline(moto_env)


def test_every_fixture_is_accepted_and_recorded(pipeline: Pipeline) -> None:
    for name in DELIVERIES:
        assert pipeline.deliver(name) == 200, name
    pipeline.drain()
    index = pipeline.index()
    assert pipeline.dead_letters() == []
    # One archived object per distinct event, and every indexed event archived.
    archived = pipeline.archive()
    events = {e["event_id"] for history in index.values() for e in history["events"]}
    assert {k.rsplit("/", 1)[1].removesuffix(".json") for k in archived} == events
    assert audit.verify().ok
    # A Facebook comment that was added and later edited is indexed with its history.
    store = ContentStore()
    thai = [h for h in index.values() if any("สู้" in (e.get("text") or "") for e in h["events"])]
    assert thai, "the Thai comment is recorded"
    assert store.account_items("facebook", thai[0]["account_id"])
    # Every item's chain of custody names the audit entries that recorded each of its events.
    for history in index.values():
        trail = ingest.custody(history["platform"], history["account_id"], history["item_id"])
        recorded = {e["event_id"] for entry in trail for e in entry.details.get("events", [])}
        assert {e["event_id"] for e in history["events"]} <= recorded


def test_replaying_everything_twice_in_shuffled_order_converges(
    moto_env: Provisioned, pipeline: Pipeline
) -> None:
    for name in DELIVERIES:
        pipeline.deliver(name)
    pipeline.drain()
    first_archive, first_index = pipeline.archive(), pipeline.index()

    replay = DELIVERIES * 2
    random.Random(7).shuffle(replay)
    for name in replay:
        pipeline.deliver(name)
    pipeline.drain()
    assert pipeline.archive() == first_archive
    assert pipeline.index() == first_index


def test_a_batch_of_1000_meta_changes_in_one_post_is_processed_fully(pipeline: Pipeline) -> None:
    template = json.loads(fixture("fb_feed_comment_add_1.json"))
    entry = template["entry"][0]
    change = entry["changes"][0]
    changes = []
    for n in range(1000):
        value = {
            **change["value"],
            "comment_id": f"{change['value']['post_id']}_{n}",
            "message": f"comment {n}",
        }
        changes.append({**change, "value": value})
    body = json.dumps({**template, "entry": [{**entry, "changes": changes}]}).encode()
    assert pipeline.deliver("fb_batch_1000.json", body) == 200
    pipeline.drain()
    assert len(pipeline.index()) == 1000
    assert len(pipeline.archive()) == 1000


def test_a_poison_message_goes_to_the_dlq_with_its_reason_and_the_batch_goes_on(pipeline: Pipeline) -> None:
    pipeline.sqs.send_message(QueueUrl=pipeline.env.queue_urls["intake"], MessageBody="not a pointer")
    assert pipeline.deliver("fb_feed_comment_add_1.json") == 200
    pipeline.drain()
    [dead] = pipeline.dead_letters()
    assert dead["Body"] == "not a pointer"
    assert "not a delivery pointer" in dead["MessageAttributes"]["reason"]["StringValue"]
    assert len(pipeline.index()) == 1


def test_items_are_read_by_thread_by_account_date_and_by_author_without_a_scan(pipeline: Pipeline) -> None:
    for name in (
        "fb_feed_comment_add_1.json",
        "fb_feed_comment_add_5_reply.json",
        "fb_feed_comment_edited_1.json",
    ):
        assert pipeline.deliver(name) == 200
    pipeline.drain()
    store = ContentStore()
    histories = list(pipeline.index().values())
    for history in histories:
        item = store.get(history["platform"], history["account_id"], history["item_id"])
        assert item is not None
        current = item.history.current
        root = current.post_id or current.parent_id or current.item_id
        assert current.item_id in {
            i.item_id for i in store.thread(current.platform, current.account_id, root)
        }
        listed = store.account_items(current.platform, current.account_id)
        assert current.item_id in {i.item_id for i in listed}
        assert [i.created_at for i in listed] == sorted(i.created_at for i in listed)  # by date
        if current.author and current.author.id:
            assert current.item_id in {
                i.item_id for i in store.author_recent(current.platform, current.author.id, "2000", 500)
            }
