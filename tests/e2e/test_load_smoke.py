"""The load test's harness (``python -m bench.load``) at a small size: its plan holds the duplicates and reordered
edits it claims, a real run against the local runtime comes out with nothing lost or duplicated, and each of its
checks fails when the system's records are damaged behind its back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench import load, load_support

pytestmark = pytest.mark.e2e

DELIVERIES, SENDERS = 200, 4


def test_plan_sends_what_it_claims() -> None:
    plan = load_support.plan(DELIVERIES, SENDERS, duplicate_share=0.1, seed=3)
    sent = [d for queue in plan.queues for d in queue]
    distinct = {d.body for item in plan.items for d in item.deliveries}

    assert len(sent) == DELIVERIES
    assert plan.duplicates == 20
    assert len(distinct) == DELIVERIES - 20  # every distinct delivery is different bytes
    assert len(sent) - len({d.body for d in sent}) == 20  # the rest are copies of them
    assert len({item.key for item in plan.items}) == len(plan.items)
    # Without duplicates, each item's deliveries are exactly its sender's, in the planned (reordered) order.
    unique = load_support.plan(DELIVERIES, SENDERS, duplicate_share=0, seed=3)
    assert unique.deliveries == DELIVERIES
    for item in unique.items:
        expected = {
            "single": ["add"],
            "in_order": ["add", "edit1"],
            "edit_first": ["edit1", "add"],
            "edits_swapped": ["add", "edit2", "edit1"],
        }[item.shape]
        assert [d.label for d in item.deliveries] == expected
        assert [d.label for d in unique.queues[item.sender] if d.item == item.key] == expected
        assert len(item.texts) == len(expected)
        assert len(set(item.texts)) == len(expected)
    shapes = plan.shapes()
    assert shapes["edit_first"] > 0
    assert shapes["edits_swapped"] > 0


def test_results_are_merged_under_load(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"measured_at": "earlier", "results": [{"name": "audit append"}]}))

    load.write_results({"deliveries": 3, "ok": True}, results)

    data = json.loads(results.read_text())
    assert data["results"] == [{"name": "audit append"}]
    assert data["measured_at"] == "earlier"
    assert data["load"]["deliveries"] == 3
    assert data["load"]["ok"] is True


@pytest.fixture(scope="module")
def runtime() -> Iterator[dict[str, Any]]:
    with load_support.local_runtime() as state:
        yield state


@pytest.fixture(scope="module")
def loaded(runtime: dict[str, Any]) -> tuple[dict[str, Any], load_support.Plan]:
    figures, _, plan = load.run(DELIVERIES, SENDERS, seed=5, drain_deadline=300, state=runtime)
    return figures, plan


def test_small_load_loses_and_duplicates_nothing(loaded: tuple[dict[str, Any], load_support.Plan]) -> None:
    figures, plan = loaded

    assert figures["accepted"] == DELIVERIES
    assert figures["statuses"] == {"200": DELIVERIES}
    assert figures["drained"] is True
    assert figures["items"] == len(plan.items)
    assert figures["expected_versions"] == sum(len(item.texts) for item in plan.items)
    assert (figures["lost"], figures["duplicated"], figures["wrong_versions"]) == (0, 0, 0)
    assert figures["dead_lettered"] == 0
    assert figures["audit_verified"] is True
    assert figures["ok"] is True
    assert 0 < figures["latency_p50_ms"] <= figures["latency_p99_ms"] <= figures["latency_max_ms"]


def _record(ddb: Any, table: str, item: load_support.Item) -> dict[str, Any]:
    key = {"pk": {"S": f"ITEM#{item.key[0]}#{item.key[1]}#{item.key[2]}"}, "sk": {"S": "META"}}
    found: dict[str, Any] = ddb.get_item(TableName=table, Key=key)["Item"]
    return found


def _set_history(ddb: Any, table: str, record: dict[str, Any], history: dict[str, Any]) -> None:
    ddb.update_item(
        TableName=table,
        Key={"pk": record["pk"], "sk": record["sk"]},
        UpdateExpression="SET history = :h",
        ExpressionAttributeValues={":h": {"S": json.dumps(history)}},
    )


def test_each_check_fails_when_the_records_are_damaged(
    runtime: dict[str, Any], loaded: tuple[dict[str, Any], load_support.Plan]
) -> None:
    _, plan = loaded
    ddb, sqs = load_support.client(runtime, "dynamodb"), load_support.client(runtime, "sqs")
    content, audit = runtime["env"]["STEWARD_TABLE_CONTENT"], runtime["env"]["STEWARD_TABLE_AUDIT"]
    edited = [item for item in plan.items if len(item.texts) > 1]
    gone = next(item for item in plan.items if len(item.texts) == 1)
    doubled, rewritten = edited[0], edited[1]

    ddb.delete_item(TableName=content, Key={"pk": _record(ddb, content, gone)["pk"], "sk": {"S": "META"}})
    record = _record(ddb, content, doubled)
    history = json.loads(record["history"]["S"])
    history["versions"].append({**history["versions"][-1], "version": len(history["versions"]) + 1})
    _set_history(ddb, content, record, history)
    record = _record(ddb, content, rewritten)
    history = json.loads(record["history"]["S"])
    history["versions"][0]["text"] = "something Steward was never sent"
    _set_history(ddb, content, record, history)
    sqs.send_message(QueueUrl=runtime["dlq_urls"]["intake"], MessageBody="{}")
    entry = ddb.scan(TableName=audit, Limit=1)["Items"][0]
    ddb.update_item(
        TableName=audit,
        Key={"pk": entry["pk"], "sk": entry["sk"]},
        UpdateExpression="SET actor = :a",
        ExpressionAttributeValues={":a": {"S": "user:someone-else"}},
    )

    checked = load_support.check(runtime, plan)

    gone_pk = f"ITEM#{gone.key[0]}#{gone.key[1]}#{gone.key[2]}"
    assert checked.lost_items == [gone_pk]
    assert checked.duplicated_versions == 1
    assert checked.duplicated == 1
    assert checked.wrong_versions == [f"ITEM#{rewritten.key[0]}#{rewritten.key[1]}#{rewritten.key[2]}"]
    assert checked.dead_lettered["intake"] == 1
    assert checked.audit_ok is False
    assert checked.audit_problems
    assert checked.lost == 1
    assert checked.ok is False
