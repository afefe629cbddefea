"""Searching the archived record on moto: by account and date range (through the index: items read are the items
returned, plus one to know there is more), by author, by state, and by keyword on every version's text, case- and
accent-insensitively, including removed and edited-away words; stable cursors; thread context; refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from infrastructure.local.provision import Provisioned
from shared import audit, ingest
from shared.domain.content import Change, ContentEvent
from shared.store.content_store import ContentStore
from tests.integration.test_retention import PAGE, call, ok

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

MARCH = datetime(2026, 3, 10, 12, tzinfo=UTC)


@pytest.fixture
def record_env(moto_env: Provisioned) -> None:
    audit.reset()


def event(item: str, change: Change, at: datetime, text: str | None = None, **more: Any) -> ContentEvent:
    fields: dict[str, Any] = {
        "platform": "facebook",
        "account_id": PAGE,
        "item_id": item,
        "change": change,
        "occurred_at": at,
    }
    if change in (Change.ADDED, Change.EDITED):
        fields |= {
            "kind": "comment",
            "text": text,
            "post_id": "post-1",
            "created_at": more.pop("created_at", at),
        }
        fields |= {"author": {"id": more.pop("author", "u1"), "name": "A Parent"}, **more}
    else:
        fields |= {"changed_by": "platform"}
    return ContentEvent.create(**fields)


def district_post(text: str) -> ContentEvent:
    """The account's own post "post-1", the thread the comments of :func:`event` are in."""
    return ContentEvent.create(
        platform="facebook",
        account_id=PAGE,
        item_id="post-1",
        change=Change.ADDED,
        occurred_at=MARCH,
        kind="post",
        text=text,
        created_at=MARCH,
        author={"id": "district"},
    )


def put(*events: ContentEvent) -> None:
    for e in events:
        ingest.record(e, e.occurred_at)


def search(**query: str) -> dict[str, Any]:
    path = "/search?" + "&".join(f"{k}={v}" for k, v in query.items())
    return dict(ok("GET", path))


@pytest.mark.usefixtures("record_env")
def test_keyword_search_finds_removed_and_edited_away_words_with_their_thread() -> None:
    put(
        district_post("Board meeting tonight"),
        event("c-1", Change.ADDED, MARCH + timedelta(hours=1), "Vote NO on the BÓND measure!"),
        event("c-2", Change.ADDED, MARCH + timedelta(hours=2), "The bond is fine", author="u2"),
        event("c-3", Change.ADDED, MARCH + timedelta(hours=3), "Lunch menu?", author="u3"),
        event("c-4", Change.ADDED, MARCH + timedelta(hours=4), "I like the bond", author="u4"),
    )
    put(
        event("c-1", Change.REMOVED, MARCH + timedelta(days=1)),
        event(
            "c-4",
            Change.EDITED,
            MARCH + timedelta(days=1),
            "I like the schools",
            created_at=MARCH + timedelta(hours=4),
            author="u4",
        ),
    )
    window = {
        "account": f"facebook:{PAGE}",
        "date_from": "2026-03-01T00:00:00Z",
        "date_to": "2026-05-31T23:59:59Z",
    }

    found = search(**window, q="bond")
    assert [h["item_id"] for h in found["hits"]] == ["c-1", "c-2", "c-4"]
    removed, _, edited = found["hits"]
    assert removed["state"] == "removed"
    assert edited["edited"] is True
    assert [v["matched"] for v in edited["versions"]] == [True, False]  # the word was edited away
    assert removed["thread"][0]["text"] == "Board meeting tonight"

    only_removed = search(**window, q="Bond", states="removed")
    assert [h["item_id"] for h in only_removed["hits"]] == ["c-1"]
    # Regular-expression characters are taken literally.
    assert search(**window, q="b.nd")["hits"] == []


@pytest.mark.usefixtures("record_env")
def test_a_pages_thread_context_is_read_in_one_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    post = district_post("Spring schedule")
    comments = [
        event(f"c-{n}", Change.ADDED, MARCH + timedelta(minutes=n + 1), f"question {n}") for n in range(3)
    ]
    replies = [
        event(
            f"r-{n}",
            Change.ADDED,
            MARCH + timedelta(hours=1, minutes=n),
            f"answer {n}",
            parent_id=f"c-{n % 2}",
        )
        for n in range(4)
    ]
    put(post, *comments, *replies)
    reads: list[str] = []
    batch = ContentStore.get_many
    monkeypatch.setattr(ContentStore, "get", lambda *_: reads.append("get"))
    monkeypatch.setattr(
        ContentStore, "get_many", lambda self, keys: reads.append("batch") or batch(self, keys)
    )

    found = search(
        account=f"facebook:{PAGE}",
        date_from="2026-03-01T00:00:00Z",
        date_to="2026-03-31T00:00:00Z",
        q="answer",
    )
    assert reads == ["batch"]
    threads = {h["item_id"]: [t["item_id"] for t in h["thread"]] for h in found["hits"]}
    assert threads == {
        "r-0": ["post-1", "c-0"],
        "r-1": ["post-1", "c-1"],
        "r-2": ["post-1", "c-0"],
        "r-3": ["post-1", "c-1"],
    }
    assert found["hits"][0]["thread"][1]["text"] == "question 0"


@pytest.mark.usefixtures("record_env")
def test_paging_is_stable_and_reads_what_it_returns() -> None:
    put(*[event(f"c-{n:02d}", Change.ADDED, MARCH + timedelta(minutes=n), f"comment {n}") for n in range(12)])
    window = {
        "account": f"facebook:{PAGE}",
        "date_from": "2026-03-01T00:00:00Z",
        "date_to": "2026-03-31T00:00:00Z",
    }
    seen: list[str] = []
    page = search(**window, limit="5", context="false")
    while True:
        seen += [h["item_id"] for h in page["hits"]]
        assert page["items_read"] <= len(page["hits"]) + 1
        if not page["next_cursor"]:
            break
        page = search(**window, limit="5", context="false", cursor=page["next_cursor"])
    assert seen == [f"c-{n:02d}" for n in range(12)]
    by_author = search(author="facebook:u1", limit="100")
    assert len(by_author["hits"]) == 12


@pytest.mark.usefixtures("record_env")
@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("date_from=2026-03-01T00:00:00Z&date_to=2026-03-31T00:00:00Z", "exactly one account"),
        (f"account=facebook:{PAGE}&date_from=2026-03-02T00:00:00Z&date_to=2026-03-01T00:00:00Z", "after"),
        (f"account=facebook:{PAGE}&date_from=2020-01-01T00:00:00Z&date_to=2026-03-01T00:00:00Z", "spans"),
        (f"account=facebook:{PAGE}", "date_from"),
        (f"account=facebook:{PAGE}&date_from=2026-03-01T00:00:00&date_to=2026-03-31T00:00:00Z", "offset"),
        (
            f"account=facebook:{PAGE}&date_from=2026-03-01T00:00:00Z&date_to=2026-03-31T00:00:00Z&states=gone",
            "states",
        ),
        (
            f"account=facebook:{PAGE}&date_from=2026-03-01T00:00:00Z&date_to=2026-03-31T00:00:00Z&cursor=xyz",
            "cursor",
        ),
    ],
)
def test_bad_searches_get_a_clear_422(query: str, words: str) -> None:
    status, answer = call("GET", f"/search?{query}")
    assert status == 422, answer
    assert words in answer["message"]


@pytest.mark.usefixtures("record_env")
def test_only_records_searches() -> None:
    for roles in (("communications",), ("moderators",), ("it",)):
        assert call("GET", f"/search?account=facebook:{PAGE}", roles)[0] == 403
