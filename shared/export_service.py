"""Export packages for public-records requests: requested by ``records`` (audited), built by a job on the
``exports`` queue, downloaded through a presigned link that expires in minutes (every download audited).

The package is a BagIt bag (RFC 8493, made and checksummed by the ``bagit`` library) zipped into the exports
bucket; its content is decided by :mod:`shared.domain.package`. It is built as a stream: items are read from the
index page by page and written straight to files on local disk (each version's archived object is read to quote
its SHA-256); the thread pages are grouped through an on-disk SQLite table; the zip is uploaded from disk in parts.
Memory does not grow with the number of items, only the disk does.
"""

from __future__ import annotations

import csv
import hashlib
import html
import json
import os
import sqlite3
import tempfile
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import IO, Any

from pydantic import BaseModel, Field, ValidationError

from shared import audit, catalogue, requests_service, search_service
from shared.domain import package
from shared.domain.audit import AuditEntry
from shared.domain.content import ItemHistory, format_time
from shared.domain.package import Archived, Export, ExportState, ItemRecord
from shared.domain.redaction import RedactionRules
from shared.domain.search import SearchQuery
from shared.errors import BadRequest, Conflict, Gone, NotFound, StewardError, Unavailable
from shared.identity import Identity
from shared.observability import logger
from shared.settings import get_settings
from shared.store import archive, exports, queues
from shared.store.content_store import ContentStore
from shared.store.records_store import Revised

QUEUE = "exports"
EXPORTER = "system:export-worker"
# Custody entries recently written to the package: an entry shared by neighbouring items is written once. Bounded,
# so memory does not grow with the items (an entry met again after falling out is simply written again).
_CUSTODY_WINDOW = 4096


# The request's own audit entries written to the chain of custody: the audit log reads a resource's entries up to a
# limit (it cannot page on), so a request with more has only its oldest this many in the package, and says so.
def _now() -> datetime:
    return datetime.now(UTC)


# --------------------------------------------------------------------------------------------- jobs
class ExportJob(BaseModel):
    """A message on the ``exports`` queue."""

    request_id: str = Field(min_length=1, max_length=128)
    export_id: str = Field(min_length=1, max_length=64)


def parse_job(body: str) -> ExportJob:
    try:
        return ExportJob.model_validate_json(body)
    except ValidationError:
        raise BadRequest("not an export job") from None


def run_job(job: ExportJob) -> dict[str, Any]:
    return build(job.request_id, job.export_id)


# --------------------------------------------------------------------------------------------- requests
class ExportList(BaseModel):
    exports: list[Export]


class DownloadLink(BaseModel):
    url: str = Field(description="Presigned GET of the package; a bearer link, valid until expires_at")
    expires_at: datetime
    filename: str
    sha256: str = Field(description="SHA-256 of the zip, to check the download against")
    size: int


def request_export(
    who: Identity,
    request_id: str,
    query: SearchQuery,
    redaction: RedactionRules | None,
    note: str = "",
) -> Export:
    """Record the export (audited) and queue its build. Only an open request takes a new export."""
    request = requests_service.load(request_id)
    if request.closed_on is not None:
        raise Conflict(f"request {request_id} is closed; a closed request takes no new export")
    at = _now()
    export = Export(
        id=f"{at:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}",
        request_id=request_id,
        state=ExportState.QUEUED,
        query=query,
        redaction=redaction,
        note=note,
        requested_by=who.actor,
        requested_at=at,
    )
    audit.append(
        who.actor,
        "export.requested",
        requests_service.resource(request_id),
        {"export": export.id, "query": json.loads(query.model_dump_json()), **_redaction_summary(redaction)},
        also=[requests_service.store().export_part(export, None)],
    )
    try:
        queues.send(
            QUEUE,
            [ExportJob(request_id=request_id, export_id=export.id).model_dump_json()],
            what="export job",
        )
    except Unavailable:
        _fail(Revised(export, 1), "the build could not be queued; request the export again")
        raise
    return export


def _redaction_summary(rules: RedactionRules | None) -> dict[str, Any]:
    """What the audit trail records of the redaction: the categories and a digest of the name list, never the
    names (they are of students whose directory information is withheld)."""
    if rules is None:
        return {"redaction": None}
    names = hashlib.sha256("\n".join(rules.names).encode()).hexdigest() if rules.names else None
    return {
        "redaction": {"categories": list(rules.categories), "names": len(rules.names), "names_sha256": names}
    }


def _load(request_id: str, export_id: str) -> Revised[Export]:
    found = requests_service.store().export(request_id, export_id)
    if found is None:
        raise NotFound(f"request {request_id} has no export {export_id}")
    return found


def get(request_id: str, export_id: str) -> Export:
    return _load(request_id, export_id).value


def listing(request_id: str) -> ExportList:
    requests_service.load(request_id)  # 404 for an unknown request
    return ExportList(exports=requests_service.store().exports(request_id))


def download(who: Identity, request_id: str, export_id: str) -> DownloadLink:
    """A link to the package that expires in minutes; the download is audited before the link is given."""
    export = _load(request_id, export_id).value
    if export.state is not ExportState.READY or not export.key or not export.sha256 or export.size is None:
        detail = f": {export.error}" if export.error else ""
        raise Conflict(f"export {export_id} is {export.state}, not ready to download{detail}")
    now = _now()
    if export.expires_at is not None and now >= export.expires_at:
        raise Gone(
            f"export {export_id} expired at {format_time(export.expires_at)}; request a new export of the request"
        )
    seconds = get_settings().export_link_seconds
    expires = now + timedelta(seconds=seconds)
    url = exports.link(export.key, seconds=seconds, filename=export.filename)
    audit.append(
        who.actor,
        "export.downloaded",
        requests_service.resource(request_id),
        {"export": export_id, "sha256": export.sha256, "link_expires_at": format_time(expires)},
    )
    return DownloadLink(
        url=url, expires_at=expires, filename=export.filename, sha256=export.sha256, size=export.size
    )


# --------------------------------------------------------------------------------------------- the build
def _fail(found: Revised[Export] | None, error: str, *, final: bool = True) -> None:
    if found is None:
        return
    state = ExportState.FAILED if final else found.value.state
    try:
        requests_service.store().save_export(
            found.value.model_copy(update={"state": state, "error": error}), found.revision
        )
    except StewardError:
        logger.exception("the export's failure could not be recorded", extra={"export": found.value.id})


def build(request_id: str, export_id: str) -> dict[str, Any]:
    """Build the package of one export (the job). Idempotent: a ready export is left as it is."""
    found = _load(request_id, export_id)
    if found.value.state in (ExportState.READY, ExportState.FAILED):
        return {"export": export_id, "state": str(found.value.state), "skipped": True}
    export = found.value.model_copy(
        update={"state": ExportState.BUILDING, "attempts": found.value.attempts + 1, "error": None}
    )
    revision = requests_service.store().save_export(export, found.revision)
    try:
        built = _build(export)
    except Exception as exc:
        final = export.attempts >= catalogue.queue(QUEUE).max_receive_count
        reason = exc.message if isinstance(exc, StewardError) else f"{exc.__class__.__name__} while building"
        _fail(Revised(export, revision), reason, final=final)
        if final:
            audit.append(
                EXPORTER,
                "export.failed",
                requests_service.resource(request_id),
                {"export": export_id, "error": reason},
            )
        raise
    package_fields = {k: v for k, v in asdict(built).items() if k != "at"}
    ready = export.model_copy(
        update={
            "state": ExportState.READY,
            "built_at": built.at,
            "expires_at": built.at + timedelta(days=catalogue.EXPORT_PACKAGE_DAYS),
            **package_fields,
        }
    )
    audit.append(
        EXPORTER,
        "export.built",
        requests_service.resource(request_id),
        {"export": export_id, **package_fields},
        also=[requests_service.store().export_part(ready, revision)],
    )
    return {"export": export_id, "state": "ready", "items": built.items, "sha256": built.sha256}


@dataclass(frozen=True)
class Built:
    at: datetime
    key: str
    sha256: str
    size: int
    items: int
    versions: int
    redactions: int
    audit_verified: bool


def _build(export: Export) -> Built:
    with tempfile.TemporaryDirectory(prefix="steward-export-") as work:
        root = os.path.join(work, export.bag_name)
        os.makedirs(root)
        writer = _PackageWriter(root, os.path.join(work, "threads.sqlite"), export)
        try:
            counts = writer.write()
        finally:
            writer.close()
        published = exports.publish_bag(
            root,
            name=export.bag_name,
            key=f"exports/{export.request_id}/{export.filename}",
            info=counts.info,
            what="export package",
        )
        return Built(
            at=_now(),
            key=published.key,
            sha256=published.sha256,
            size=published.size,
            items=counts.items,
            versions=counts.versions,
            redactions=counts.redactions,
            audit_verified=counts.audit_ok,
        )


@dataclass(frozen=True)
class Counts:
    items: int
    versions: int
    redactions: int
    audit_ok: bool
    info: dict[str, str]


class _PackageWriter:
    """Writes the payload files of one export into ``root`` (bagit then moves them under ``data/``)."""

    def __init__(self, root: str, db_path: str, export: Export) -> None:
        self.root = root
        self.export = export
        self.files = ExitStack()
        self.db = sqlite3.connect(db_path)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("PRAGMA cache_size=-2048")  # at most 2 MiB of pages in memory; the rest stays on disk
        self.db.execute(
            "CREATE TABLE fragments (thread TEXT, is_post INT, created TEXT, item TEXT, html TEXT)"
        )
        self.recent: OrderedDict[str, None] = OrderedDict()
        self.items = self.versions = self.redactions = 0

    def close(self) -> None:
        self.files.close()
        self.db.close()

    def _open(self, name: str) -> IO[str]:
        path = os.path.join(self.root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        return self.files.enter_context(open(path, "w", encoding="utf-8", newline=""))

    def write(self) -> Counts:
        request = requests_service.load(self.export.request_id)
        verification = audit.verify()
        jsonl = self._open("items.jsonl")
        rows = csv.writer(self._open("items.csv"))
        rows.writerow(package.CSV_FIELDS)
        custody = self._open("chain-of-custody.jsonl")
        custody.write(_json({"record": "verification", **verification.model_dump(mode="json")}))
        for entry in audit.log().all_for_resource(requests_service.resource(self.export.request_id)):
            self._entry(custody, entry)
        redactions = csv.writer(self._open("redaction-log.csv")) if self.export.redaction else None
        if redactions is not None:
            redactions.writerow(package.REDACTION_FIELDS)
        first: str | None = None
        last: str | None = None
        for history, locators in self._matches():
            record = package.item_record(history, self._archived(history), locators, self.export.redaction)
            jsonl.write(_json(record.line))
            rows.writerows(record.rows)
            self._redactions(redactions, record)
            for entry in self._custody(locators):
                self._entry(custody, entry)
            custody.write(_json({"record": "item", "item": record.key, "entries": list(locators)}))
            self.db.execute(
                "INSERT INTO fragments VALUES (?, ?, ?, ?, ?)",
                (record.thread, int(record.is_post), record.created, record.key, record.html),
            )
            if record.media:
                self._attachments(history)
            self.items += 1
            self.versions += record.versions
            first = first or record.created
            last = record.created
        self._threads(redactions)
        info = package.bag_info(
            organization=get_settings().organization,
            export=self.export,
            request_text=request.text,
            received_on=request.received_on.isoformat(),
            items=self.items,
            versions=self.versions,
            redactions=self.redactions,
            audit_ok=verification.ok,
            first=first,
            last=last,
        )
        with open(os.path.join(self.root, "README.txt"), "w", encoding="utf-8") as readme:
            readme.write(package.readme(self.export, info))
        return Counts(self.items, self.versions, self.redactions, verification.ok, info)

    def _matches(self) -> Iterator[tuple[ItemHistory, tuple[str, ...]]]:
        for _, stored, matched in search_service.read(self.export.query, page_size=200):
            if matched is not None:
                yield stored.history, stored.custody

    @staticmethod
    def _archived(history: ItemHistory) -> dict[int, Archived]:
        """Each version's archived object, read to quote the SHA-256 of the record as S3 keeps it."""
        found: dict[int, Archived] = {}
        for v in history.versions:
            key = archive.version_key(history.platform, history.account_id, history.item_id, v.event_id)
            body = archive.read_bytes(key)
            found[v.version] = Archived(key, hashlib.sha256(body).hexdigest() if body is not None else None)
        return found

    def _redactions(self, writer: Any, record: ItemRecord) -> None:
        if writer is None:
            return
        for entry in record.redactions:
            writer.writerow(package.redaction_row(entry))
        self.redactions += len(record.redactions)

    def _custody(self, locators: tuple[str, ...]) -> list[AuditEntry]:
        return audit.entries_at([loc for loc in locators if loc not in self.recent])

    def _entry(self, out: IO[str], entry: AuditEntry) -> None:
        where = audit.locator(entry)
        if where in self.recent:
            self.recent.move_to_end(where)
            return
        self.recent[where] = None
        if len(self.recent) > _CUSTODY_WINDOW:
            self.recent.popitem(last=False)
        out.write(_json({"record": "entry", "locator": where, **entry.model_dump(mode="json")}))

    def _attachments(self, history: ItemHistory) -> None:
        prefix = archive.attachments_prefix(history.platform, history.account_id, history.item_id)
        for key in archive.attachments(history.platform, history.account_id, history.item_id):
            name = key.removeprefix(prefix)
            if not name or name.startswith("/") or ".." in name.split("/"):
                continue
            target = os.path.join(self.root, "attachments", prefix.removeprefix("attachments/"), name)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            archive.download(key, target)

    def _threads(self, redactions: Any) -> None:
        """One page per thread (its items in order, the post first), and an index of the threads."""
        self.db.execute("CREATE INDEX by_thread ON fragments (thread, is_post DESC, created, item)")
        index = self._open("threads/index.html")
        index.write(
            package.page_start(
                f"Request {self.export.request_id}: threads",
                f"Export {self.export.id} · {get_settings().organization}",
            )
        )
        index.write(package.LEGEND)
        index.write("<table><tr><th>Thread</th><th>Items in this export</th><th>First item</th></tr>")
        summary = self.db.execute(
            "SELECT thread, COUNT(*), MAX(is_post), MIN(created) FROM fragments GROUP BY thread ORDER BY MIN(created)"
        )
        for thread, count, has_post, first in summary:
            path = package.thread_file(thread)
            index.write(
                f'<tr><td><a href="{path.removeprefix("threads/")}">{html.escape(thread)}</a></td>'
                f"<td>{count}</td><td>{html.escape(first)}</td></tr>"
            )
            with open(self._path(path), "w", encoding="utf-8") as page:
                page.write(package.page_start(f"Thread {thread}", f"Request {self.export.request_id}"))
                page.write(package.LEGEND)
                if not has_post:
                    page.write(self._context_post(thread, redactions))
                fragments = self.db.execute(
                    "SELECT html FROM fragments WHERE thread = ? ORDER BY is_post DESC, created, item",
                    (thread,),
                )
                for (fragment,) in fragments:
                    page.write(fragment)
                page.write(package.PAGE_END)
        index.write("</table>")
        index.write(package.PAGE_END)

    def _path(self, name: str) -> str:
        path = os.path.join(self.root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        return path

    def _context_post(self, thread: str, redactions: Any) -> str:
        """The thread's post when the export does not include it (shown as context, redacted like the rest)."""
        platform, account, root = thread.split(":", 2)
        stored = ContentStore().get(platform, account, root)
        if stored is None:
            return "<p><em>The thread's post is not in the archive.</em></p>"
        record = package.item_record(stored.history, {}, (), self.export.redaction)
        self._redactions(redactions, record)
        return package.fragment(record.line, reply=False, in_scope=False)


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n"
