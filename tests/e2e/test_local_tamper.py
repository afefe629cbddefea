"""Editing or deleting one audit item in the local DynamoDB makes verify name it (API and CLI)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import LocalSteward

pytestmark = pytest.mark.e2e


def _items(local: LocalSteward) -> list[dict[str, Any]]:
    table = local.state["env"]["STEWARD_TABLE_AUDIT"]
    return sorted(
        local.client("dynamodb").scan(TableName=table)["Items"], key=lambda i: (i["pk"]["S"], i["sk"]["S"])
    )


def _first_chain_with(local: LocalSteward, length: int) -> list[dict[str, Any]]:
    by_chain: dict[str, list[dict[str, Any]]] = {}
    for item in _items(local):
        by_chain.setdefault(item["pk"]["S"], []).append(item)
    return next(items for items in by_chain.values() if len(items) >= length)


def test_edit_then_delete_is_named(local: LocalSteward) -> None:
    token = local.token("records")
    # Make sure some chain has at least four entries: the deleted one (the third) must have a successor. Deleting
    # a chain's last entry after its last anchor is a truncation no check can see (each anchor's own audit entry
    # comes after it), which made this test depend on where the random chains put the entries.
    for n in range(20):
        local.call("POST", "/audit/anchors", token=token, body={"reason": f"filler anchor {n}"})
    chain = _first_chain_with(local, 4)
    table = local.state["env"]["STEWARD_TABLE_AUDIT"]
    ddb = local.client("dynamodb")

    victim = chain[1]
    ddb.update_item(
        TableName=table,
        Key={"pk": victim["pk"], "sk": victim["sk"]},
        UpdateExpression="SET actor = :a",
        ExpressionAttributeValues={":a": {"S": "user:someone-else"}},
    )
    status, report = local.call("GET", "/audit/verify", token=token)
    assert status == 200
    assert report["ok"] is False
    problems = [c["problem"] for c in report["chains"] if c["problem"]]
    assert problems == [
        {
            "kind": "edited",
            "chain": int(victim["pk"]["S"].split("#")[1]),
            "seq": int(victim["sk"]["S"].split("#")[1]),
            "entry_id": victim["id"]["S"],
            "message": problems[0]["message"],
        }
    ]
    cli = local.steward("audit", "verify")
    assert cli.returncode == 1
    assert victim["id"]["S"] in cli.stdout

    # Put it back, then delete the entry after it instead.
    ddb.put_item(TableName=table, Item=victim)
    assert local.call("GET", "/audit/verify", token=token)[1]["ok"] is True
    deleted = chain[2]
    ddb.delete_item(TableName=table, Key={"pk": deleted["pk"], "sk": deleted["sk"]})
    report = local.call("GET", "/audit/verify", token=token)[1]
    problem = next(c["problem"] for c in report["chains"] if c["problem"])
    assert problem["kind"] in {"deleted", "truncated"}
    assert problem["seq"] == int(deleted["sk"]["S"].split("#")[1])
