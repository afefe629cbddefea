"""The export package's content (pure): an item's JSON line, CSV rows, redactions and HTML fragment; threads;
file names; bag-info."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.domain import package, redaction
from shared.domain.content import Change, ContentEvent, ItemHistory, build_history
from shared.domain.package import Archived, Export, ExportState
from shared.domain.search import SearchQuery

AT = datetime(2026, 4, 1, 12, tzinfo=UTC)


def history(item: str = "c-1", *changes: tuple[Change, str | None], **more: Any) -> ItemHistory:
    events = []
    for n, (change, text) in enumerate(changes or ((Change.ADDED, "hello"),)):
        fields: dict[str, Any] = {
            "platform": "facebook",
            "account_id": "page-1",
            "item_id": item,
            "change": change,
            "occurred_at": AT + timedelta(hours=n),
        }
        if change in (Change.ADDED, Change.EDITED):
            fields |= {"kind": "comment", "text": text, "post_id": "p-1", "created_at": AT, **more}
            fields |= {"author": {"id": "u1", "name": "Pat Parent"}}
        else:
            fields |= {"changed_by": "account"}
        events.append(ContentEvent.create(**fields))
    return build_history(events)


def archived(h: ItemHistory) -> dict[int, Archived]:
    return {v.version: Archived(f"events/{v.event_id}.json", "ab" * 32) for v in h.versions}


def test_every_version_is_a_row_and_in_the_line_with_its_archived_object() -> None:
    h = history("c-1", (Change.ADDED, "first"), (Change.EDITED, "second"), (Change.REMOVED, None))
    record = package.item_record(h, archived(h), ["0:1:e1"], None)
    assert record.key == "facebook:page-1:c-1"
    assert [v["text"] for v in record.line["versions"]] == ["first", "second", "second"]
    assert [v["change"] for v in record.line["versions"]] == ["added", "edited", "removed"]
    assert record.line["state"] == "removed"
    assert record.line["edited"] is True
    assert record.line["custody"] == ["0:1:e1"]
    assert record.versions == len(record.rows) == 3
    assert all(len(row) == len(package.CSV_FIELDS) for row in record.rows)
    assert {row[-1] for row in record.rows} == {"ab" * 32}
    assert 'class="item removed"' in record.html
    assert "REMOVED" in record.html
    assert "EDITED" in record.html
    assert "3 versions" in record.html


def test_a_version_missing_from_the_archive_says_so() -> None:
    h = history()
    record = package.item_record(h, {}, [], None)
    assert record.line["versions"][0]["archive_sha256"] is None
    assert record.rows[0][-2:] == ["", ""]


def test_csv_cells_that_a_spreadsheet_would_run_start_with_an_apostrophe_json_keeps_the_text() -> None:
    h = history("c-2", (Change.ADDED, '=HYPERLINK("http://evil.example","click")'))
    record = package.item_record(h, archived(h), [], None)
    text_cell = record.rows[0][package.CSV_FIELDS.index("text")]
    assert text_cell.startswith("'=HYPERLINK")
    assert record.line["versions"][0]["text"].startswith("=HYPERLINK")
    buffer = io.StringIO()
    csv.writer(buffer).writerows(record.rows)
    assert next(csv.reader(io.StringIO(buffer.getvalue())))[package.CSV_FIELDS.index("text")] == text_cell


def test_html_is_escaped() -> None:
    h = history("c-3", (Change.ADDED, "<script>alert(1)</script> & more"))
    record = package.item_record(h, archived(h), [], None)
    assert "<script>" not in record.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in record.html


def test_redaction_covers_text_of_every_version_and_the_author_name_and_logs_spans_of_the_original() -> None:
    rules = redaction.rules(["phone", "name"], ["Pat Parent"])
    h = history("c-4", (Change.ADDED, "call 509-555-0142"), (Change.EDITED, "call Pat Parent"))
    record = package.item_record(h, archived(h), [], rules)
    texts = [v["text"] for v in record.line["versions"]]
    assert "509-555-0142" not in texts[0]
    assert "[REDACTED phone" in texts[0]
    assert "Pat Parent" not in texts[1]
    assert record.line["author"]["name"].startswith("[REDACTED name")
    assert record.line["redacted"] is True
    fields = {(r.field, r.category) for r in record.redactions}
    assert fields == {("versions[1].text", "phone"), ("versions[2].text", "name"), ("author.name", "name")}
    phone = next(r for r in record.redactions if r.category == "phone")
    assert "call 509-555-0142"[phone.start : phone.end] == "509-555-0142"
    assert package.redaction_row(phone)[:4] == ["facebook:page-1:c-4", "versions[1].text", "5", "17"]
    assert "Pat Parent" not in record.html


@pytest.mark.parametrize(
    ("more", "thread", "reply"),
    [
        ({}, "facebook:page-1:p-1", False),
        ({"parent_id": "c-9"}, "facebook:page-1:p-1", True),
        ({"parent_id": "p-1"}, "facebook:page-1:p-1", False),
    ],
)
def test_thread_and_reply_indent(more: dict[str, Any], thread: str, reply: bool) -> None:
    h = history("c-5", (Change.ADDED, "x"), **more)
    record = package.item_record(h, archived(h), [], None)
    assert record.thread == thread
    assert ("reply" in record.html.split(">", 1)[0]) is reply


def test_thread_file_names_are_safe() -> None:
    assert package.thread_file("facebook:page-1:p-1") == "threads/facebook/page-1/p-1.html"
    name = package.thread_file("youtube:UC/../x:a b/c")
    assert ".." not in name.split("/")
    assert name.startswith("threads/youtube/")
    assert " " not in name


def test_bag_info_names_the_organization_request_dates_and_counts() -> None:
    export = Export(
        id="20260401T120000-0123abcd",
        request_id="20260401-89abcdef",
        state=ExportState.BUILDING,
        query=SearchQuery(
            account="facebook:page-1", date_from=AT, date_to=AT + timedelta(days=30), keyword="bond"
        ),
        redaction=redaction.rules(["email"]),
        requested_by="user:records",
        requested_at=AT,
    )
    info = package.bag_info(
        organization="Example SD",
        export=export,
        request_text="All comments\nabout the bond",
        received_on="2026-04-01",
        items=12,
        versions=15,
        redactions=2,
        audit_ok=True,
        first="2026-04-02T00:00:00Z",
        last="2026-04-20T00:00:00Z",
    )
    assert info["Source-Organization"] == "Example SD"
    assert info["External-Identifier"] == "20260401-89abcdef"
    assert info["External-Description"] == "All comments about the bond"
    assert (info["Item-Count"], info["Version-Count"]) == ("12", "15")
    assert info["Date-Range-Of-Items"] == "2026-04-02T00:00:00Z to 2026-04-20T00:00:00Z"
    assert info["Redacted"].startswith("yes: email; 2 redaction(s)")
    assert info["Audit-Verification"] == "passed"
    assert "keyword 'bond'" in info["Export-Query"]
    assert export.filename == "steward-20260401-89abcdef-20260401T120000-0123abcd.zip"
    readme = package.readme(export, info)
    assert "manifest-sha256.txt" in readme
    assert "Item-Count: 12" in readme
