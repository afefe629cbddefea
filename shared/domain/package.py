"""Export packages for public-records requests (pure): what an export is, and how one archived item becomes its
JSON line, its CSV rows (one per version), its redaction log entries and its HTML fragment in a thread view.

The package is a BagIt bag (RFC 8493) built by ``shared.export_service``; this module decides its content:

- ``data/items.jsonl``: one line per item, every version with its archived object's key and SHA-256;
- ``data/items.csv``: one row per version (cells that a spreadsheet would run as a formula start with ``'``);
- ``data/threads/*.html``: each thread with its items in order, hidden, removed and edited ones marked;
- ``data/redaction-log.csv``: each redaction (item, field, span of the original, category, exemption);
- ``data/chain-of-custody.jsonl``: the audit verification result, then the audit entries that recorded the
  items (and those of the request), each item pointing at its own.

Redaction applies to the copy in the package only: the archive keeps the original, whose SHA-256 the package
quotes so the district can prove what was redacted from what.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.domain import spreadsheet
from shared.domain.content import ItemHistory, ItemKind, ItemState, format_time
from shared.domain.redaction import Redaction, RedactionRules, redact
from shared.domain.search import ItemFilter, SearchQuery, states_of

NOTE_MAX = 2000
CSV_FIELDS = (
    "item",
    "platform",
    "account_id",
    "item_id",
    "kind",
    "post_id",
    "parent_id",
    "author_id",
    "author_name",
    "author_handle",
    "created_at",
    "current_state",
    "edited",
    "version",
    "change",
    "effective_at",
    "state",
    "changed_by",
    "text",
    "media",
    "archive_key",
    "archive_sha256",
)
REDACTION_FIELDS = ("item", "field", "start", "end", "category", "exemption")


class ExportState(StrEnum):
    QUEUED = "queued"
    BUILDING = "building"
    READY = "ready"
    FAILED = "failed"


class Export(BaseModel):
    """One export of a request: what it searched, whether it redacts, and the package once built."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[0-9]{8}T[0-9]{6}-[0-9a-f]{8}$")
    request_id: str
    state: ExportState
    query: SearchQuery
    redaction: RedactionRules | None = None
    note: str = Field(default="", max_length=NOTE_MAX)
    requested_by: str
    requested_at: datetime
    attempts: int = 0
    built_at: datetime | None = None
    expires_at: datetime | None = None
    key: str | None = None
    sha256: str | None = None
    size: int | None = None
    items: int | None = None
    versions: int | None = None
    redactions: int | None = None
    audit_verified: bool | None = None
    error: str | None = None

    @property
    def filename(self) -> str:
        return f"steward-{self.request_id}-{self.id}.zip"

    @property
    def bag_name(self) -> str:
        return self.filename.removesuffix(".zip")


@dataclass(frozen=True)
class Archived:
    """Where a version's event is archived and the SHA-256 of the object as stored (None: not found there)."""

    key: str
    sha256: str | None


@dataclass
class ItemRecord:
    """Everything the package says about one item."""

    key: str
    thread: str
    is_post: bool
    created: str
    line: dict[str, Any]
    rows: list[list[str]]
    redactions: list[Redaction]
    html: str
    versions: int
    media: bool = field(default=False)


def item_key(history: ItemHistory) -> str:
    return f"{history.platform}:{history.account_id}:{history.item_id}"


def thread_of(history: ItemHistory) -> str:
    """The thread an item belongs to: its post (the item itself for a post or video)."""
    ident = history.identity
    root = ident.post_id or ident.parent_id or history.item_id
    return f"{history.platform}:{history.account_id}:{root}"


def _redacted(
    value: str | None, rules: RedactionRules | None, item: str, name: str, log: list[Redaction]
) -> str | None:
    if value is None or rules is None:
        return value
    text, found = redact(value, rules, item=item, field=name)
    log.extend(found)
    return text


def item_record(
    history: ItemHistory,
    archived: Mapping[int, Archived],
    custody: Iterable[str],
    rules: RedactionRules | None,
) -> ItemRecord:
    """The item's line, rows, redactions and HTML fragment. ``archived`` maps version numbers to their object."""
    key = item_key(history)
    ident = history.identity
    current = history.current
    log: list[Redaction] = []
    author = ident.author
    author_name = _redacted(author.name if author else None, rules, key, "author.name", log)
    author_handle = _redacted(author.handle if author else None, rules, key, "author.handle", log)
    edited = ItemFilter.EDITED in states_of(history)
    versions: list[dict[str, Any]] = []
    for v in history.versions:
        copy = archived.get(v.version)
        versions.append(
            {
                "version": v.version,
                "change": str(v.change),
                "effective_at": format_time(v.effective_at),
                "state": str(v.state),
                "changed_by": str(v.changed_by) if v.changed_by else None,
                "text": _redacted(v.text, rules, key, f"versions[{v.version}].text", log),
                "media": [m.model_dump(mode="json", exclude_none=True) for m in v.media],
                "archive_key": copy.key if copy else None,
                "archive_sha256": copy.sha256 if copy else None,
            }
        )
    created = (
        format_time(ident.created_at) if ident.created_at else format_time(history.versions[0].effective_at)
    )
    line: dict[str, Any] = {
        "item": key,
        "platform": str(history.platform),
        "account_id": history.account_id,
        "item_id": history.item_id,
        "kind": str(ident.kind) if ident.kind else None,
        "post_id": ident.post_id,
        "parent_id": ident.parent_id,
        "author": {"id": author.id, "name": author_name, "handle": author_handle} if author else None,
        "author_is_account": ident.author_is_account,
        "created_at": format_time(ident.created_at) if ident.created_at else None,
        "url": ident.url,
        "state": str(current.state),
        "edited": edited,
        "versions": versions,
        "custody": list(custody),
        "redacted": bool(log),
    }
    rows = [
        [
            spreadsheet.cell(c)
            for c in (
                key,
                line["platform"],
                history.account_id,
                history.item_id,
                line["kind"] or "",
                ident.post_id or "",
                ident.parent_id or "",
                author.id if author and author.id else "",
                author_name or "",
                author_handle or "",
                line["created_at"] or "",
                line["state"],
                "yes" if edited else "no",
                str(v["version"]),
                v["change"],
                v["effective_at"],
                v["state"],
                v["changed_by"] or "",
                v["text"] or "",
                json.dumps(v["media"]) if v["media"] else "",
                v["archive_key"] or "",
                v["archive_sha256"] or "",
            )
        ]
        for v in versions
    ]
    is_post = ident.kind in (ItemKind.POST, ItemKind.VIDEO) or thread_of(history) == key
    return ItemRecord(
        key=key,
        thread=thread_of(history),
        is_post=is_post,
        created=created,
        line=line,
        rows=rows,
        redactions=log,
        html=fragment(line, reply=bool(ident.parent_id and ident.parent_id != ident.post_id), in_scope=True),
        versions=len(versions),
        media=any(v.media for v in history.versions),
    )


def csv_line(values: Iterable[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(list(values))
    return buffer.getvalue()


def redaction_row(entry: Redaction) -> list[str]:
    return [entry.item, entry.field, str(entry.start), str(entry.end), str(entry.category), entry.exemption]


# --------------------------------------------------------------------------------------------- HTML
_STYLE = """
body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
article{border-left:4px solid #8a8a8a;padding:.4rem .8rem;margin:.8rem 0;background:#fafafa}
article.reply{margin-left:2.5rem}
article.hidden{border-color:#b26b00;background:#fff6e5}
article.removed{border-color:#b00020;background:#fdecee}
article.context{border-style:dashed;opacity:.8}
.badge{font-size:.75rem;font-weight:700;padding:0 .35rem;border:1px solid;border-radius:3px;margin-left:.3rem}
.text{white-space:pre-wrap}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}
"""


def _badges(line: Mapping[str, Any], in_scope: bool) -> str:
    marks = []
    if line["state"] == ItemState.HIDDEN:
        marks.append("HIDDEN")
    if line["state"] == ItemState.REMOVED:
        marks.append("REMOVED")
    if line["edited"]:
        marks.append("EDITED")
    if not in_scope:
        marks.append("CONTEXT (not in this export)")
    return "".join(f'<span class="badge">{m}</span>' for m in marks)


def fragment(line: Mapping[str, Any], *, reply: bool, in_scope: bool) -> str:
    """One item as an ``<article>``: author, time, state marks, its text now and, when there were several, every
    version with its change and time."""
    author = line.get("author") or {}
    who = author.get("name") or author.get("handle") or author.get("id") or "unknown author"
    classes = " ".join(
        c for c in ("item", str(line["state"]), "reply" if reply else "", "" if in_scope else "context") if c
    )
    versions = line["versions"]
    current = versions[-1]["text"] if versions else None
    parts = [
        f'<article class="{classes}" id="{html.escape(_anchor(line["item"]))}">',
        f"<header><strong>{html.escape(str(who))}</strong> · <time>{html.escape(line.get('created_at') or '')}"
        f"</time> · <code>{html.escape(line['item'])}</code>{_badges(line, in_scope)}</header>",
        f'<p class="text">{html.escape(current) if current else "<em>(no text)</em>"}</p>',
    ]
    if len(versions) > 1:
        parts.append(f"<details><summary>{len(versions)} versions</summary><ol>")
        for v in versions:
            text = html.escape(v["text"]) if v["text"] else "<em>(no text)</em>"
            parts.append(
                f"<li>{html.escape(v['change'])} · {html.escape(v['effective_at'])} · {html.escape(v['state'])}: "
                f'<span class="text">{text}</span></li>'
            )
        parts.append("</ol></details>")
    parts.append("</article>")
    return "".join(parts)


def _anchor(item: str) -> str:
    return "item-" + re.sub(r"[^A-Za-z0-9_-]", "_", item)


def page_start(title: str, subtitle: str) -> str:
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1><p>{html.escape(subtitle)}</p>"
    )


PAGE_END = "</body></html>\n"
LEGEND = (
    "<p>Marks: <span class='badge'>HIDDEN</span> hidden from the public on the platform; "
    "<span class='badge'>REMOVED</span> deleted from the platform (kept in the archive); "
    "<span class='badge'>EDITED</span> changed after posting (every version is listed); "
    "[REDACTED …] text withheld under the exemption cited.</p>"
)


def thread_file(thread: str) -> str:
    """The path of a thread's page inside ``data/`` (ids reduced to safe file-name characters)."""
    platform, account, root = thread.split(":", 2)
    return (
        "threads/" + "/".join(re.sub(r"[^A-Za-z0-9._-]", "_", p) for p in (platform, account, root)) + ".html"
    )


def bag_info(
    *,
    organization: str,
    export: Export,
    request_text: str,
    received_on: str,
    items: int,
    versions: int,
    redactions: int,
    audit_ok: bool,
    first: str | None,
    last: str | None,
) -> dict[str, str]:
    """``bag-info.txt``'s fields (the bagit library adds Bagging-Date, Payload-Oxum and its own agent)."""
    query = export.query
    scope = f"account {query.account}" if query.account else f"author {query.author}"
    span = " to ".join(format_time(d) for d in (query.date_from, query.date_to) if d) or "all dates"
    return {
        "Source-Organization": organization,
        "External-Identifier": export.request_id,
        "Internal-Sender-Identifier": export.id,
        "External-Description": " ".join(request_text.split())[:500],
        "Request-Received-Date": received_on,
        "Export-Query": f"{scope}; {span}"
        + (f"; states {', '.join(query.states)}" if query.states else "")
        + (f"; keyword {query.keyword!r}" if query.keyword else ""),
        "Date-Range-Requested": span,
        "Date-Range-Of-Items": f"{first} to {last}" if first and last else "no items",
        "Item-Count": str(items),
        "Version-Count": str(versions),
        "Redacted": (
            f"yes: {', '.join(export.redaction.categories)}; {redactions} redaction(s), see data/redaction-log.csv"
            if export.redaction
            else "no"
        ),
        "Audit-Verification": "passed" if audit_ok else "FAILED: see data/chain-of-custody.jsonl",
        "Requested-By": export.requested_by,
    }


def readme(export: Export, info: Mapping[str, str]) -> str:
    """``data/README.txt``: what the package holds and how anyone can check it."""
    lines = [
        f"Public-records export {export.id} for request {export.request_id}",
        "",
        *(f"{k}: {v}" for k, v in info.items()),
        "",
        "Files",
        "  items.jsonl            one JSON object per item, with every version",
        "  items.csv              one row per version (a cell starting with = + - @ is prefixed with ')",
        "  threads/index.html     every thread; each thread's page marks hidden, removed and edited items",
        "  attachments/           media archived with the items, if any",
        "  redaction-log.csv      each redaction: item, field, character span of the original, exemption",
        "  chain-of-custody.jsonl the audit verification result, the audit entries that recorded each item,",
        "                         and each item's pointers to them (chain:sequence:entry id)",
        "",
        "Checking the package",
        "  The package is a BagIt bag (RFC 8493). manifest-sha256.txt lists the SHA-256 of every file under",
        "  data/, and tagmanifest-sha256.txt that of the bag's own files. Any BagIt validator checks both, e.g.",
        "  `bagit.py --validate <directory>` (Library of Congress), or `sha256sum -c manifest-sha256.txt`.",
        "  Each version's archive_sha256 is that of the original archived record, which redaction leaves",
        "  untouched.",
        "",
    ]
    return "\n".join(lines)
