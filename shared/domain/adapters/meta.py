"""Meta webhooks: Facebook Page ``feed`` (``object: page``) and Instagram ``comments`` / ``live_comments``
(``object: instagram``). One POST holds up to 1000 changes across its entries; each becomes its own outcome.

Judgement calls (see also the module docstring of ``shared.domain.content``):

* Facebook items ``comment``, ``post``, ``photo``, ``video`` and ``share`` are content; ``reaction``/``like`` are
  skipped as reactions, ``status`` as a status update (issue 3 lists it), any other item as unsupported.
  Field ``mention`` (a comment elsewhere that mentions the Page) is skipped as a mention elsewhere.
* A comment whose ``parent_id`` differs from its ``post_id`` is a reply.
* ``from`` (or the legacy ``sender_id``/``sender_name``) is the author on add/edited. On hide/unhide/remove the
  payload does not say whether it names the author or whoever acted, so it is kept as ``actor_id`` only. Only the
  Page can hide, so hide/unhide are ``changed_by=account``; a removal is ``account`` when ``from`` is the Page
  (under either reading the Page removed it) and ``unknown`` otherwise (the author, or the Page, did).
* Times: ``added`` happens at ``created_time``; edited/hide/unhide/remove at the entry's ``time`` (an edit's
  ``created_time`` is the comment's creation time). With neither, the receive time stands in (flagged).
* Instagram sends only new comments; ``parent_id`` marks a reply; ``media.id`` is the post. There is no display
  name in the payload, so the username is the author's handle and the name stays empty. ``mentions`` are
  skipped as mentions elsewhere.
* A delivery without ``object`` is read as the platform the caller named (``facebook``/``instagram``); with
  ``meta`` the change fields decide when they belong to one API only (``comments`` is Instagram's, ``feed`` the
  Page's), else it is a BadRequest. Meta's documentation wraps its sample in a JSON array; an array of deliveries is
  read element by element rather than refused, because the content in it is still a record.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from shared.domain.adapters._common import (
    ChangeProblem,
    JsonObject,
    as_object,
    collect,
    json_type,
    opt_id,
    opt_str,
    opt_time,
    req_id,
)
from shared.domain.content import (
    Actor,
    Author,
    Change,
    ChangeError,
    ContentEvent,
    ItemKind,
    MediaRef,
    Outcome,
    ParsedEvent,
    Platform,
    SkippedEvent,
    SkipReason,
)
from shared.errors import BadRequest

OBJECTS = {"page": Platform.FACEBOOK, "instagram": Platform.INSTAGRAM}

FEED_VERBS = {
    "add": Change.ADDED,
    "edited": Change.EDITED,
    "edit": Change.EDITED,
    "update": Change.EDITED,
    "hide": Change.HIDDEN,
    "unhide": Change.UNHIDDEN,
    "remove": Change.REMOVED,
    "delete": Change.REMOVED,
}
FEED_POST_ITEMS = {
    "post": ItemKind.POST,
    "photo": ItemKind.POST,
    "share": ItemKind.POST,
    "video": ItemKind.VIDEO,
}
REACTION_ITEMS = {"reaction", "like"}
IG_COMMENT_FIELDS = {"comments", "live_comments"}
INSTAGRAM_ONLY_FIELDS = {"comments", "live_comments", "mentions", "story_insights"}
PAGE_ONLY_FIELDS = {"feed", "mention"}


def parse_meta(doc: Any, expected: Platform | None, received_at: datetime) -> list[Outcome]:
    """All outcomes of one Meta delivery (or of each delivery in a JSON array of them)."""
    outcomes: list[Outcome] = []
    if isinstance(doc, list):
        if not doc:
            raise BadRequest("Meta delivery is an empty array")
        for i, delivery in enumerate(doc):
            _parse_delivery(delivery, expected, received_at, f"[{i}].", outcomes)
    else:
        _parse_delivery(doc, expected, received_at, "", outcomes)
    return outcomes


def _parse_delivery(
    doc: Any, expected: Platform | None, received_at: datetime, prefix: str, outcomes: list[Outcome]
) -> None:
    where = f"Meta delivery {prefix.rstrip('.')}".rstrip()
    if not isinstance(doc, dict):
        raise BadRequest(f"{where} must be a JSON object, got {json_type(doc)}")
    obj = doc.get("object")
    entries = doc.get("entry")
    if not isinstance(entries, list):
        raise BadRequest(
            f"{where} has no 'entry' list" if entries is None else f"{where} 'entry' must be a list"
        )
    if obj is None:
        platform = expected or _infer_object(entries, where)
    elif not isinstance(obj, str):
        raise BadRequest(f"{where} 'object' must be a string, got {json_type(obj)}")
    elif obj not in OBJECTS:
        for i, _ in enumerate(entries):
            outcomes.append(
                SkippedEvent(
                    location=f"{prefix}entry[{i}]",
                    kind=f"object:{obj}"[:128],
                    reason=SkipReason.UNSUPPORTED_OBJECT,
                    detail=f"Meta object {obj[:64]!r} carries no page or Instagram content",
                )
            )
        return
    else:
        platform = OBJECTS[obj]
        if expected is not None and expected is not platform:
            raise BadRequest(f"{where} is for object {obj!r} but was received as {expected.value}")
    for i, entry in enumerate(entries):
        _parse_entry(entry, platform, received_at, f"{prefix}entry[{i}]", outcomes)


def _infer_object(entries: list[Any], where: str) -> Platform:
    """A delivery without ``object`` (seen in a pasted sample): the change fields say which API sent it, when
    every field belongs to exactly one of them; otherwise the delivery is refused."""
    fields = {
        change.get("field")
        for entry in entries
        if isinstance(entry, dict) and isinstance(entry.get("changes"), list)
        for change in entry["changes"]
        if isinstance(change, dict)
    }
    if fields and fields <= INSTAGRAM_ONLY_FIELDS:
        return Platform.INSTAGRAM
    if fields and fields <= PAGE_ONLY_FIELDS:
        return Platform.FACEBOOK
    raise BadRequest(f"{where} has no 'object' (expected 'page' or 'instagram') and its fields do not tell")


def _parse_entry(
    entry: Any, platform: Platform, received_at: datetime, location: str, outcomes: list[Outcome]
) -> None:
    try:
        entry = as_object(entry, location)
        account_id = req_id(entry.get("id"), f"{location}.id")
        entry_time = opt_time(entry.get("time"), f"{location}.time")
        changes = entry.get("changes")
        if changes is None:
            for other in ("messaging", "standby"):
                if other in entry:
                    outcomes.append(
                        SkippedEvent(
                            location=location,
                            platform=platform,
                            account_id=account_id,
                            kind=other,
                            reason=SkipReason.UNSUPPORTED_FIELD,
                            detail=f"{other} entries are messages, not public content",
                        )
                    )
                    return
            raise ChangeProblem(f"{location} has no 'changes' list")
        if not isinstance(changes, list):
            raise ChangeProblem(f"{location}.changes must be a list, got {json_type(changes)}")
    except ChangeProblem as exc:
        outcomes.append(ChangeError(location=location, message=str(exc), platform=platform))
        return
    read = _feed_change if platform is Platform.FACEBOOK else _instagram_change
    for j, change in enumerate(changes):
        change_location = f"{location}.changes[{j}]"
        collect(
            outcomes,
            change_location,
            platform,
            partial(read, change, account_id, entry_time, received_at, change_location),
        )


def _event_time(
    primary: datetime | None, fallback: datetime | None, received_at: datetime
) -> tuple[datetime, bool]:
    if primary is not None:
        return primary, False
    if fallback is not None:
        return fallback, False
    return received_at, True


# --------------------------------------------------------------------------------------------- Facebook
def _feed_change(
    raw: Any, account_id: str, entry_time: datetime | None, received_at: datetime, location: str
) -> Outcome:
    change = as_object(raw, location)
    field = change.get("field")
    if not isinstance(field, str) or not field:
        raise ChangeProblem(f"{location}.field is missing")
    value = change.get("value")

    def skip(kind: str, reason: SkipReason, detail: str, item_id: str | None = None) -> SkippedEvent:
        return SkippedEvent(
            location=location,
            platform=Platform.FACEBOOK,
            account_id=account_id,
            kind=kind[:128],
            reason=reason,
            detail=detail,
            item_id=item_id,
        )

    if field == "mention":
        item_id = None
        if isinstance(value, dict):
            item_id = opt_id(value.get("comment_id"), "comment_id") or opt_id(value.get("post_id"), "post_id")
        return skip(
            "mention", SkipReason.MENTION_ELSEWHERE, "the Page was mentioned on content elsewhere", item_id
        )
    if field != "feed":
        return skip(field, SkipReason.UNSUPPORTED_FIELD, f"field {field[:64]!r} carries no comments")
    where = f"{location}.value"
    value = as_object(value, where)
    item = opt_str(value, "item", where)
    verb = opt_str(value, "verb", where)
    if not item or not verb:
        raise ChangeProblem(f"{where}.{'verb' if item else 'item'} is missing")
    not_content = _feed_not_content(value, item, verb, where)
    if not_content is not None:
        return skip(*not_content)
    kind_change = FEED_VERBS[verb]
    event = _feed_event(value, item, kind_change, account_id, entry_time, received_at, where)
    return ParsedEvent(location=location, event=event)


def _feed_event(
    value: JsonObject,
    item: str,
    change: Change,
    account_id: str,
    entry_time: datetime | None,
    received_at: datetime,
    where: str,
) -> ContentEvent:
    post_id = opt_id(value.get("post_id"), f"{where}.post_id")
    if item == "comment":
        item_id = req_id(value.get("comment_id"), f"{where}.comment_id")
        parent_id = opt_id(value.get("parent_id"), f"{where}.parent_id") or post_id
        is_reply = parent_id is not None and post_id is not None and parent_id != post_id
        kind = ItemKind.REPLY if is_reply else ItemKind.COMMENT
    else:
        item_id = post_id or req_id(value.get(f"{item}_id"), f"{where}.post_id")
        post_id = item_id
        parent_id = None
        kind = FEED_POST_ITEMS[item]

    from_id, from_name = _feed_sender(value, where)
    created_at = opt_time(value.get("created_time"), f"{where}.created_time")
    content_change = change in (Change.ADDED, Change.EDITED)
    if change is Change.ADDED:
        occurred_at, estimated = _event_time(created_at, entry_time, received_at)
    else:
        occurred_at, estimated = _event_time(entry_time, created_at, received_at)
    fields: dict[str, Any] = {
        "platform": Platform.FACEBOOK,
        "account_id": account_id,
        "item_id": item_id,
        "change": change,
        "occurred_at": occurred_at,
        "time_estimated": estimated,
        "kind": kind,
        "parent_id": parent_id,
        "post_id": post_id,
        "text": opt_str(value, "message", where),
        "media": _feed_media(value, where),
        "created_at": created_at if content_change else None,
    }
    if content_change:
        if from_id is not None or from_name is not None:
            fields["author"] = Author(id=from_id, name=from_name)
        if from_id is not None:
            fields["author_is_account"] = from_id == account_id
    else:
        fields["actor_id"] = from_id
        fields["changed_by"] = (
            Actor.UNKNOWN if change is Change.REMOVED and from_id != account_id else Actor.ACCOUNT
        )
    return ContentEvent.create(**fields)


def _feed_not_content(
    value: JsonObject, item: str, verb: str, where: str
) -> tuple[str, SkipReason, str, str | None] | None:
    """Why a feed change is skipped (kind, reason, detail, item id), or None for content."""
    target = opt_id(value.get("comment_id"), f"{where}.comment_id") or opt_id(
        value.get("post_id"), f"{where}.post_id"
    )
    if item in REACTION_ITEMS:
        return f"feed:{item}", SkipReason.REACTION, f"{item} {verb}", target
    if item == "status":
        return "feed:status", SkipReason.STATUS_UPDATE, f"status update {verb}", target
    if item != "comment" and item not in FEED_POST_ITEMS:
        return f"feed:{item}", SkipReason.UNSUPPORTED_ITEM, f"feed item {item[:64]!r} is not content", target
    if verb not in FEED_VERBS:
        return (
            f"feed:{item}:{verb}",
            SkipReason.UNSUPPORTED_VERB,
            f"verb {verb[:64]!r} changes no content",
            target,
        )
    return None


def _feed_sender(value: JsonObject, where: str) -> tuple[str | None, str | None]:
    sender = value.get("from")
    if sender is not None:
        sender = as_object(sender, f"{where}.from")
        return opt_id(sender.get("id"), f"{where}.from.id"), opt_str(sender, "name", f"{where}.from")
    return opt_id(value.get("sender_id"), f"{where}.sender_id"), opt_str(value, "sender_name", where)


def _feed_media(value: JsonObject, where: str) -> tuple[MediaRef, ...]:
    media: list[MediaRef] = []
    for key in ("photo", "video", "link"):
        url = opt_str(value, key, where)
        if url:
            media.append(MediaRef(kind=key, url=url, id=opt_id(value.get(f"{key}_id"), f"{where}.{key}_id")))
    photos = value.get("photos")
    if photos is not None:
        if not isinstance(photos, list) or not all(isinstance(p, str) for p in photos):
            raise ChangeProblem(f"{where}.photos must be a list of URLs")
        media.extend(MediaRef(kind="photo", url=p) for p in photos)
    return tuple(media)


# --------------------------------------------------------------------------------------------- Instagram
def _instagram_change(
    raw: Any, account_id: str, entry_time: datetime | None, received_at: datetime, location: str
) -> Outcome:
    change = as_object(raw, location)
    field = change.get("field")
    if not isinstance(field, str) or not field:
        raise ChangeProblem(f"{location}.field is missing")
    value = change.get("value")
    if field == "mentions":
        item_id = opt_id(value.get("comment_id"), "comment_id") if isinstance(value, dict) else None
        return SkippedEvent(
            location=location,
            platform=Platform.INSTAGRAM,
            account_id=account_id,
            kind="mentions",
            reason=SkipReason.MENTION_ELSEWHERE,
            detail="the account was mentioned in a comment or caption elsewhere",
            item_id=item_id,
        )
    if field not in IG_COMMENT_FIELDS:
        return SkippedEvent(
            location=location,
            platform=Platform.INSTAGRAM,
            account_id=account_id,
            kind=field[:128],
            reason=SkipReason.UNSUPPORTED_FIELD,
            detail=f"field {field[:64]!r} carries no comments",
        )
    where = f"{location}.value"
    value = as_object(value, where)
    item_id = req_id(value.get("id"), f"{where}.id")
    parent_id = opt_id(value.get("parent_id"), f"{where}.parent_id")
    media_id: str | None = None
    surface: str | None = None
    media = value.get("media")
    if media is not None:
        media = as_object(media, f"{where}.media")
        media_id = opt_id(media.get("id"), f"{where}.media.id")
        surface = opt_str(media, "media_product_type", f"{where}.media")
    if surface is None and field == "live_comments":
        surface = "LIVE"
    author: Author | None = None
    author_is_account: bool | None = None
    sender = value.get("from")
    if sender is not None:
        sender = as_object(sender, f"{where}.from")
        author_id = opt_id(sender.get("id"), f"{where}.from.id")
        author = Author(id=author_id, handle=opt_str(sender, "username", f"{where}.from"))
        author_is_account = None if author_id is None else author_id == account_id
    created_at = opt_time(value.get("timestamp"), f"{where}.timestamp")
    occurred_at, estimated = _event_time(created_at, entry_time, received_at)
    event = ContentEvent.create(
        platform=Platform.INSTAGRAM,
        account_id=account_id,
        item_id=item_id,
        change=Change.ADDED,
        occurred_at=occurred_at,
        time_estimated=estimated,
        kind=ItemKind.REPLY if parent_id else ItemKind.COMMENT,
        parent_id=parent_id or media_id,
        post_id=media_id,
        author=author,
        author_is_account=author_is_account,
        text=opt_str(value, "text", where),
        created_at=created_at,
        surface=surface,
    )
    return ParsedEvent(location=location, event=event)
