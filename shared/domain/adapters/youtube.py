"""YouTube WebSub (PubSubHubbub) Atom notifications: uploads, title/description edits, deletions.

Judgement calls:

* A notification does not say whether it is an upload or an edit. An entry whose ``updated`` is within
  :data:`UPLOAD_WINDOW` of ``published`` is an upload (``added`` at ``published``); a later ``updated`` makes it
  an edit (``edited`` at ``updated``). A wrong guess only mislabels the change: the history treats a second
  creation with other content as an edit, and a first edit as the creation.
* The video's text is its title (the feed carries no description; a description-only edit repeats the title and
  makes no new version). The account, the author and the post are the channel and the video itself.
* ``at:deleted-entry`` is a removal at its ``when``; the channel comes from ``at:by/uri``. Whether the channel or
  YouTube deleted it is not said, so ``changed_by`` is unknown.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from xml.etree.ElementTree import Element

from shared.domain.adapters._common import ChangeProblem, collect, opt_time
from shared.domain.adapters._xml import parse_xml
from shared.domain.content import (
    Actor,
    Author,
    Change,
    ContentEvent,
    ItemKind,
    MediaRef,
    Outcome,
    ParsedEvent,
    Platform,
)
from shared.errors import BadRequest

ATOM = "{http://www.w3.org/2005/Atom}"
YT = "{http://www.youtube.com/xml/schemas/2015}"
TOMBSTONE = "{http://purl.org/atompub/tombstones/1.0}"
VIDEO_REF = "yt:video:"
UPLOAD_WINDOW = timedelta(minutes=5)


def parse_youtube(raw: bytes, received_at: datetime) -> list[Outcome]:
    root = parse_xml(raw, "YouTube")
    if root.tag != f"{ATOM}feed":
        raise BadRequest(f"YouTube delivery is not an Atom feed (root element {root.tag!r})")
    outcomes: list[Outcome] = []
    entries = deleted = 0
    for element in root:
        if element.tag == f"{ATOM}entry":
            location = f"entry[{entries}]"
            entries += 1
            collect(outcomes, location, Platform.YOUTUBE, partial(_entry, element, received_at, location))
        elif element.tag == f"{TOMBSTONE}deleted-entry":
            location = f"deleted-entry[{deleted}]"
            deleted += 1
            collect(outcomes, location, Platform.YOUTUBE, partial(_deleted, element, received_at, location))
    return outcomes


def _text(element: Element, path: str) -> str | None:
    found = element.find(path)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


def _channel_from_uri(uri: str | None) -> str | None:
    if not uri:
        return None
    _, sep, channel = uri.rstrip("/").rpartition("/channel/")
    return (channel or None) if sep else None


def _entry(element: Element, received_at: datetime, location: str) -> Outcome:
    video_id = _text(element, f"{YT}videoId")
    if video_id is None:
        entry_id = _text(element, f"{ATOM}id") or ""
        video_id = entry_id.removeprefix(VIDEO_REF) if entry_id.startswith(VIDEO_REF) else None
    if not video_id:
        raise ChangeProblem(f"{location} has no yt:videoId")
    channel_id = _text(element, f"{YT}channelId") or _channel_from_uri(
        _text(element, f"{ATOM}author/{ATOM}uri")
    )
    if channel_id is None:
        raise ChangeProblem(f"{location} names no channel (yt:channelId or author/uri)")
    published = opt_time(_text(element, f"{ATOM}published"), f"{location}.published")
    updated = opt_time(_text(element, f"{ATOM}updated"), f"{location}.updated")
    occurred_at: datetime | None
    if published is not None and updated is not None and updated - published > UPLOAD_WINDOW:
        change, occurred_at = Change.EDITED, updated
    else:
        change, occurred_at = Change.ADDED, published or updated
    link = next(
        (
            el.get("href")
            for el in element.findall(f"{ATOM}link")
            if el.get("rel", "alternate") == "alternate" and el.get("href")
        ),
        None,
    )
    event = ContentEvent.create(
        platform=Platform.YOUTUBE,
        account_id=channel_id,
        item_id=video_id,
        change=change,
        occurred_at=occurred_at or received_at,
        time_estimated=occurred_at is None,
        kind=ItemKind.VIDEO,
        post_id=video_id,
        author=Author(id=channel_id, name=_text(element, f"{ATOM}author/{ATOM}name")),
        author_is_account=True,
        text=_text(element, f"{ATOM}title"),
        media=(MediaRef(kind="video", url=link, id=video_id),),
        created_at=published,
        url=link,
    )
    return ParsedEvent(location=location, event=event)


def _deleted(element: Element, received_at: datetime, location: str) -> Outcome:
    ref = element.get("ref") or ""
    if not ref.startswith(VIDEO_REF) or len(ref) == len(VIDEO_REF):
        raise ChangeProblem(f"{location} ref {ref[:64]!r} is not a yt:video: reference")
    video_id = ref.removeprefix(VIDEO_REF)
    channel_id = _channel_from_uri(_text(element, f"{TOMBSTONE}by/{ATOM}uri"))
    if channel_id is None:
        raise ChangeProblem(f"{location} names no channel (at:by/uri)")
    when = opt_time(element.get("when"), f"{location}.when")
    event = ContentEvent.create(
        platform=Platform.YOUTUBE,
        account_id=channel_id,
        item_id=video_id,
        change=Change.REMOVED,
        occurred_at=when or received_at,
        time_estimated=when is None,
        kind=ItemKind.VIDEO,
        post_id=video_id,
        changed_by=Actor.UNKNOWN,
    )
    return ParsedEvent(location=location, event=event)
