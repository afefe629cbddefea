"""Searching the archived record for a public-records request: through the indexes only (an account's items by
date, or an author's), never a Scan; narrowed by item state and a keyword matched on every version's text; paged
with stable cursors; each hit with its thread context (the post it belongs to and the comment it answers).

``items_read`` in each page says how many index items were read for it, so a caller (and the benchmark) can see
that a structured query reads what it returns: without a keyword or state filter, a page reads its items and one
more to know there is a next page.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from shared import paging
from shared.domain import search as domain
from shared.domain.content import ContentItem, ItemState, format_time
from shared.domain.search import ItemFilter, SearchQuery
from shared.settings import get_settings
from shared.store.content_store import ContentStore, ItemRef, Stored


class ContextItem(BaseModel):
    item_id: str
    author: str | None
    text: str | None
    state: ItemState
    created_at: datetime | None


class Version(BaseModel):
    version: int
    change: str
    effective_at: datetime
    state: ItemState
    text: str | None
    matched: bool


class Hit(BaseModel):
    item: str = Field(description="platform:account_id:item_id")
    platform: str
    account_id: str
    item_id: str
    author: str | None
    created_at: datetime | None
    state: ItemState
    edited: bool
    text: str | None = Field(description="The current text (removed and hidden items keep theirs)")
    versions: list[Version] = Field(description="Every version, with those the keyword matched marked")
    thread: list[ContextItem] = Field(description="The post and the comment this one answers, when archived")


class SearchPage(BaseModel):
    hits: list[Hit]
    next_cursor: str | None
    items_read: int = Field(description="Index items read to answer this page")


def store() -> ContentStore:
    return ContentStore()


def _thread_of(item: ContentItem) -> list[ItemRef]:
    """The items around a hit: its post, and the comment it replies to."""
    others = dict.fromkeys(i for i in (item.post_id, item.parent_id) if i and i != item.item_id)
    return [(str(item.platform), item.account_id, other) for other in others]


def _contexts(items: list[ContentItem]) -> dict[ItemRef, ContextItem]:
    """The archived items around a page's hits, read in one batch (a thread's post is read once)."""
    found = store().get_many(ref for item in items for ref in _thread_of(item))
    out: dict[ItemRef, ContextItem] = {}
    for ref, stored in found.items():
        current = stored.history.current
        out[ref] = ContextItem(
            item_id=current.item_id,
            author=current.author.name or current.author.id if current.author else None,
            text=current.text,
            state=current.state,
            created_at=current.created_at,
        )
    return out


def _hit(stored: Stored, matched: list[int], contexts: dict[ItemRef, ContextItem] | None) -> Hit:
    """A hit; with ``contexts`` (what :func:`_contexts` read), its thread."""
    history = stored.history
    item = history.current
    return Hit(
        item=f"{item.platform}:{item.account_id}:{item.item_id}",
        platform=str(item.platform),
        account_id=item.account_id,
        item_id=item.item_id,
        author=(item.author.name or item.author.id) if item.author else None,
        created_at=item.created_at,
        state=item.state,
        edited=ItemFilter.EDITED in domain.states_of(history),
        text=item.text,
        versions=[
            Version(
                version=v.version,
                change=str(v.change),
                effective_at=v.effective_at,
                state=v.state,
                text=v.text,
                matched=v.version in matched,
            )
            for v in history.versions
        ],
        thread=[contexts[ref] for ref in _thread_of(item) if ref in contexts] if contexts is not None else [],
    )


def checked_query(
    *,
    account: str | None = None,
    author: str | None = None,
    date_from: datetime | None = None,
    date_to: datetime | None = None,
    states: tuple[ItemFilter, ...] = (),
    keyword: str | None = None,
) -> SearchQuery:
    """The query, checked against the configured maximum span (InvalidParameter saying what is wrong)."""
    return domain.query(
        account=account,
        author=author,
        date_from=date_from,
        date_to=date_to,
        states=states,
        keyword=keyword,
        max_span=timedelta(days=get_settings().search_max_days),
    )


def search(
    *,
    account: str | None = None,
    author: str | None = None,
    date_from: datetime | None = None,
    date_to: datetime | None = None,
    states: tuple[ItemFilter, ...] = (),
    keyword: str | None = None,
    limit: int = 25,
    cursor: str | None = None,
    context: bool = True,
) -> SearchPage:
    found = checked_query(
        account=account, author=author, date_from=date_from, date_to=date_to, states=states, keyword=keyword
    )
    return _page(found, limit, cursor, context)


def read(
    found: SearchQuery, *, after: str | None = None, page_size: int = 100
) -> Iterator[tuple[str, Stored, list[int] | None]]:
    """Every index item read for ``found``, in order: (its order key, the item, the versions that answer the query,
    or None if the item does not). Lazy: DynamoDB is asked for ``page_size`` items at a time."""
    by, key = ("account", found.account) if found.account else ("author", found.author)
    platform, _, ident = (key or "").partition(":")
    partition = f"ACCOUNT#{platform}#{ident}" if by == "account" else f"AUTHOR#{platform}#{ident}"
    for order, stored in store().ordered(
        by,
        partition,
        after=after,
        start=format_time(found.date_from) if found.date_from else None,
        end=format_time(found.date_to) if found.date_to else None,
        page_size=page_size,
    ):
        created = stored.history.current.created_at
        outside = created is not None and (
            (found.date_from is not None and created < found.date_from)
            or (found.date_to is not None and created > found.date_to)
        )
        yield order, stored, None if outside else domain.answers(found, stored.history)


def _page(found: SearchQuery, limit: int, cursor: str | None, context: bool) -> SearchPage:
    after = paging.read_cursor(cursor, found.fingerprint) if cursor else None
    matches: list[tuple[Stored, list[int]]] = []
    read_count = 0
    last: str | None = None
    more = False
    # A page of N hits reads N items and one more (to know there is a next page) when nothing is filtered out.
    for order, stored, matched in read(found, after=after, page_size=limit + 1):
        read_count += 1
        if len(matches) == limit:
            more = True
            break
        last = order
        if matched is not None:
            matches.append((stored, matched))
    contexts = _contexts([stored.history.current for stored, _ in matches]) if context else None
    return SearchPage(
        hits=[_hit(stored, matched, contexts) for stored, matched in matches],
        next_cursor=paging.cursor(last, found.fingerprint) if more and last else None,
        items_read=read_count,
    )
