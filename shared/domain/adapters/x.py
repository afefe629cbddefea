"""X Account Activity API: ``tweet_create_events`` and ``tweet_delete_events`` for ``for_user_id``.

Judgement calls:

* Retweets (``retweeted_status``) are skipped: the content is recorded where it was written.
* The account's own tweets are recorded (a post, or a reply when it answers someone): they are official
  content and the thread roots replies point at.
* Any reply (``in_reply_to_status_id_str``) is recorded as a reply. The v1.1 payload has no conversation id, so
  a reply deep in the account's thread cannot be told from a reply in someone else's thread that mentions the
  account; keeping both loses no record (``post_id`` stays empty; the index can resolve the thread).
* A tweet addressed to the account (``in_reply_to_user_id_str == for_user_id`` without a status: "@district
  ...") is recorded as a comment with no parent. Any other mention or quote is skipped as a mention elsewhere.
* Text is ``extended_tweet.full_text``, else ``full_text``, else ``text``, with the three HTML entities v1.1
  escapes (``&amp;`` ``&lt;`` ``&gt;``) turned back into characters. Ids are always the ``*_str`` forms.
* A tweet's time is ``timestamp_ms`` (else ``created_at``); a deletion's is its ``timestamp_ms``. Only the author
  can delete a tweet, so a deletion is ``changed_by=author`` (``account`` when the author is the account).
* Event arrays other than tweet create/delete (favorites, follows, direct messages, ...) are skipped one skip per
  element; non-array keys (``user_has_blocked``, ``users``) are ignored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Any

from shared.domain.adapters._common import (
    ChangeProblem,
    JsonObject,
    as_object,
    collect,
    epoch,
    json_type,
    opt_id,
    opt_str,
    req_id,
)
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
    SkippedEvent,
    SkipReason,
)
from shared.errors import BadRequest

CREATE = "tweet_create_events"
DELETE = "tweet_delete_events"
TWITTER_TIME = "%a %b %d %H:%M:%S %z %Y"
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))


def parse_x(doc: Any, received_at: datetime) -> list[Outcome]:
    if not isinstance(doc, dict):
        raise BadRequest(f"X delivery must be a JSON object, got {json_type(doc)}")
    try:
        account_id = req_id(doc.get("for_user_id"), "for_user_id")
    except ChangeProblem as exc:
        raise BadRequest(f"X delivery: {exc}") from exc
    outcomes: list[Outcome] = []
    for key, value in doc.items():
        if key in (CREATE, DELETE):
            if not isinstance(value, list):
                raise BadRequest(f"X delivery '{key}' must be a list, got {json_type(value)}")
            read = _tweet if key == CREATE else _deletion
            for i, item in enumerate(value):
                location = f"{key}[{i}]"
                collect(
                    outcomes, location, Platform.X, partial(read, item, account_id, received_at, location)
                )
        elif isinstance(value, list):
            outcomes.extend(
                SkippedEvent(
                    location=f"{key}[{i}]"[:256],
                    platform=Platform.X,
                    account_id=account_id,
                    kind=key[:128],
                    reason=SkipReason.UNSUPPORTED_EVENT,
                    detail=f"{key[:64]} carry no public replies",
                )
                for i in range(len(value))
            )
    return outcomes


def _status_id(obj: JsonObject, name: str, where: str) -> str | None:
    """``name_str``, else the numeric ``name`` (Python reads big integers exactly)."""
    return opt_id(obj.get(f"{name}_str"), f"{where}.{name}_str") or opt_id(obj.get(name), f"{where}.{name}")


def _unescape(text: str | None) -> str | None:
    if text is None:
        return None
    for entity, char in _ENTITIES:
        text = text.replace(entity, char)
    return text


def _timestamp_ms(value: Any, where: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).isdigit():
        raise ChangeProblem(f"{where} must be milliseconds since the epoch")
    return epoch(int(value) / 1000, where)


def _created_at(value: Any, where: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ChangeProblem(f"{where} must be a string, got {json_type(value)}")
    try:
        return datetime.strptime(value, TWITTER_TIME).astimezone(UTC)
    except ValueError as exc:
        raise ChangeProblem(f"{where} is not a tweet time: {value[:40]!r}") from exc


def _media(tweet: JsonObject, where: str) -> tuple[MediaRef, ...]:
    extended = tweet.get("extended_tweet")
    candidates = []
    if isinstance(extended, dict):
        candidates += [extended.get("extended_entities"), extended.get("entities")]
    candidates += [tweet.get("extended_entities"), tweet.get("entities")]
    for holder in candidates:
        if isinstance(holder, dict) and isinstance(holder.get("media"), list):
            refs = []
            for i, raw in enumerate(holder["media"]):
                item = as_object(raw, f"{where}.media[{i}]")
                refs.append(
                    MediaRef(
                        kind=opt_str(item, "type", where) or "media",
                        url=opt_str(item, "media_url_https", where) or opt_str(item, "media_url", where),
                        id=_status_id(item, "id", f"{where}.media[{i}]"),
                    )
                )
            return tuple(refs)
    return ()


def _tweet(raw: Any, account_id: str, received_at: datetime, location: str) -> Outcome:
    tweet = as_object(raw, location)
    tweet_id = _status_id(tweet, "id", location)
    if tweet_id is None:
        raise ChangeProblem(f"{location}.id_str is missing")
    user = as_object(tweet.get("user"), f"{location}.user")
    user_id = _status_id(user, "id", f"{location}.user")
    if user_id is None:
        raise ChangeProblem(f"{location}.user.id_str is missing")

    def skip(reason: SkipReason, detail: str) -> SkippedEvent:
        return SkippedEvent(
            location=location,
            platform=Platform.X,
            account_id=account_id,
            kind=CREATE,
            reason=reason,
            detail=detail,
            item_id=tweet_id,
        )

    if tweet.get("retweeted_status") is not None:
        return skip(SkipReason.RETWEET, "a retweet")
    reply_to = _status_id(tweet, "in_reply_to_status_id", location)
    reply_to_user = _status_id(tweet, "in_reply_to_user_id", location)
    own = user_id == account_id
    if reply_to is not None:
        kind = ItemKind.REPLY
    elif own:
        kind = ItemKind.POST
    elif reply_to_user == account_id:
        kind = ItemKind.COMMENT
    else:
        quoted = tweet.get("is_quote_status") is True
        return skip(
            SkipReason.MENTION_ELSEWHERE, "a quote tweet" if quoted else "a mention in someone else's tweet"
        )

    extended = tweet.get("extended_tweet")
    text = None
    if extended is not None:
        text = opt_str(
            as_object(extended, f"{location}.extended_tweet"), "full_text", f"{location}.extended_tweet"
        )
    text = text or opt_str(tweet, "full_text", location) or opt_str(tweet, "text", location)
    created_at = _created_at(tweet.get("created_at"), f"{location}.created_at")
    stamp = _timestamp_ms(tweet.get("timestamp_ms"), f"{location}.timestamp_ms")
    occurred_at = stamp or created_at
    event = ContentEvent.create(
        platform=Platform.X,
        account_id=account_id,
        item_id=tweet_id,
        change=Change.ADDED,
        occurred_at=occurred_at or received_at,
        time_estimated=occurred_at is None,
        kind=kind,
        parent_id=reply_to,
        post_id=tweet_id if kind is ItemKind.POST else None,
        author=Author(
            id=user_id,
            name=opt_str(user, "name", f"{location}.user"),
            handle=opt_str(user, "screen_name", location),
        ),
        author_is_account=own,
        text=_unescape(text),
        media=_media(tweet, location),
        created_at=created_at,
        url=f"https://x.com/i/web/status/{tweet_id}",
    )
    return ParsedEvent(location=location, event=event)


def _deletion(raw: Any, account_id: str, received_at: datetime, location: str) -> Outcome:
    deletion = as_object(raw, location)
    status = as_object(deletion.get("status"), f"{location}.status")
    tweet_id = _status_id(status, "id", f"{location}.status")
    if tweet_id is None:
        raise ChangeProblem(f"{location}.status.id is missing")
    user_id = _status_id(status, "user_id", f"{location}.status")
    stamp = _timestamp_ms(deletion.get("timestamp_ms"), f"{location}.timestamp_ms")
    event = ContentEvent.create(
        platform=Platform.X,
        account_id=account_id,
        item_id=tweet_id,
        change=Change.REMOVED,
        occurred_at=stamp or received_at,
        time_estimated=stamp is None,
        changed_by=Actor.ACCOUNT if user_id == account_id else Actor.AUTHOR,
        actor_id=user_id,
    )
    return ParsedEvent(location=location, event=event)
