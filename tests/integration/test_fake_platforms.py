"""The fake platform server's echo webhooks and its HTTP surface, on loopback.

A small recording HTTP server stands in for the local runtime's API: the fake must deliver the echo a real Page
sends after a hide/unhide/delete, signed the way Meta signs (escaped-unicode bytes, ``X-Hub-Signature-256``), after
it has answered the call; and send nothing where the real platform sends nothing (Instagram, X, YouTube).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from infrastructure.local.fake_platforms import FakePlatforms
from infrastructure.local.provision import local_secret_values
from shared.domain.webhooks import signature_matches
from shared.store.platforms import (
    ClientConfig,
    FacebookClient,
    InstagramClient,
    Platforms,
    XClient,
    YouTubeClient,
)

TOKEN = "EAAB-page-token-never-log-me"
PAGE = "1234567890321"
POST = f"{PAGE}_901097836652708"
SECRET = local_secret_values("meta-app", {})["app_secret"]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Recorder:
    """The local API's stand-in: keeps every POST; answers ``status`` after ``delay`` seconds."""

    status: int = 200
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)
    url: str = ""

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(self.received) >= count, timeout):
                raise TimeoutError(f"{len(self.received)} deliveries, expected {count}")
            return list(self.received)


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    state = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            time.sleep(state.delay)
            with state.arrived:
                state.received.append(Received(self.path, dict(self.headers.items()), body, time.monotonic()))
                state.arrived.notify_all()
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def fake(recorder: Recorder) -> Iterator[FakePlatforms]:
    with FakePlatforms.local(callback_url=recorder.url) as server:
        server.add_account("facebook", PAGE, "Steward School District")
        yield server


def graph(fake: FakePlatforms) -> ClientConfig:
    return ClientConfig(fake.graph_url, timeout=2, attempts=2, backoff_base=0.001)


def the_change(body: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    delivery = json.loads(body)
    assert delivery["object"] == "page"
    [entry] = delivery["entry"]
    [change] = entry["changes"]
    assert change["field"] == "feed"
    return entry, change["value"]


def test_a_facebook_hide_is_echoed_signed_as_meta_signs(fake: FakePlatforms, recorder: Recorder) -> None:
    # Given a comment with non-ASCII text and a slash (Meta escapes both on the wire)
    comment = fake.seed_comment(
        "facebook",
        account_id=PAGE,
        post_id=POST,
        text="สวัสดี https://example.org ¿qué?",
        created_time=1467894562,
    )

    # When the Page hides it through the client
    FacebookClient(graph(fake)).hide(comment.comment_id, TOKEN)

    # Then the echo reaches /webhooks/meta, signed over the exact bytes with the local app secret
    [echo] = recorder.wait_for(1)
    assert echo.path == "/webhooks/meta"
    assert echo.headers["Content-Type"] == "application/json"
    assert signature_matches("meta", SECRET, echo.body, echo.headers["X-Hub-Signature-256"])
    assert not signature_matches("meta", SECRET, echo.body + b" ", echo.headers["X-Hub-Signature-256"])
    assert echo.body.isascii()
    assert b"\\u0e2a" in echo.body
    assert b"https:\\/\\/example.org" in echo.body
    entry, value = the_change(echo.body)
    assert entry["id"] == PAGE
    assert isinstance(entry["time"], int)
    assert value == {
        "item": "comment",
        "verb": "hide",
        "comment_id": comment.comment_id,
        "post_id": POST,
        "parent_id": POST,
        "from": {"id": PAGE, "name": "Steward School District"},
        "created_time": 1467894562,
        "message": "สวัสดี https://example.org ¿qué?",
    }
    [delivery] = fake.wait_for_echoes(1)
    assert (delivery.status, delivery.error, delivery.url) == (200, None, f"{recorder.url}/webhooks/meta")


def test_unhide_and_delete_are_echoed_as_unhide_and_remove(fake: FakePlatforms, recorder: Recorder) -> None:
    comment = fake.seed_comment("facebook", account_id=PAGE, post_id=POST, text="and the next one")
    client = FacebookClient(graph(fake))

    client.hide(comment.comment_id, TOKEN)
    recorder.wait_for(1)
    client.unhide(comment.comment_id, TOKEN)
    recorder.wait_for(2)
    client.hide(comment.comment_id, TOKEN)
    recorder.wait_for(3)
    client.delete(comment.comment_id, TOKEN)

    deliveries = recorder.wait_for(4)
    values = [the_change(d.body)[1] for d in deliveries]
    assert [v["verb"] for v in values] == ["hide", "unhide", "hide", "remove"]
    assert "message" not in values[-1]
    assert "created_time" not in values[-1]
    assert all(v["from"]["id"] == PAGE for v in values)
    assert all(
        signature_matches("meta", SECRET, d.body, d.headers["X-Hub-Signature-256"]) for d in deliveries
    )


def test_a_hide_that_changes_nothing_sends_no_echo(fake: FakePlatforms, recorder: Recorder) -> None:
    comment = fake.seed_comment("facebook", account_id=PAGE, post_id=POST, text="x", state="hidden")
    FacebookClient(graph(fake)).hide(comment.comment_id, TOKEN)
    time.sleep(0.2)
    assert recorder.received == []
    assert fake.echoes() == []


def test_the_echo_is_sent_after_the_answer(fake: FakePlatforms, recorder: Recorder) -> None:
    recorder.delay = 0.5  # a slow receiver must not hold up the platform's answer
    comment = fake.seed_comment("facebook", account_id=PAGE, post_id=POST, text="x")

    started = time.monotonic()
    FacebookClient(graph(fake)).hide(comment.comment_id, TOKEN)
    answered = time.monotonic()

    [echo] = recorder.wait_for(1)
    assert answered - started < 0.4
    assert echo.at >= answered


def test_instagram_x_and_youtube_send_no_echo(fake: FakePlatforms, recorder: Recorder) -> None:
    ig = fake.seed_comment(
        "instagram", account_id="17841400000000001", post_id="17893439049281758", text="hola"
    )
    tweet = fake.seed_comment(
        "x", account_id="930524282358325248", post_id="1045405559317569537", text="@d hi"
    )
    video = fake.seed_comment("youtube", account_id="UCdistrictChannel0000001", post_id="v", text="x")

    InstagramClient(ClientConfig(fake.graph_url, timeout=2, attempts=1)).hide(ig.comment_id, TOKEN)
    InstagramClient(ClientConfig(fake.graph_url, timeout=2, attempts=1)).delete(ig.comment_id, TOKEN)
    XClient(ClientConfig(fake.x_url, timeout=2, attempts=1)).hide(tweet.comment_id, TOKEN)
    YouTubeClient(ClientConfig(fake.youtube_url, timeout=2, attempts=1)).set_moderation_status(
        [video.comment_id], "rejected", TOKEN
    )
    time.sleep(0.2)

    assert recorder.received == []
    assert fake.echoes() == []
    assert [c.status for c in fake.calls()] == [200, 200, 200, 204]


def test_an_echo_that_cannot_be_delivered_is_recorded_not_raised(recorder: Recorder) -> None:
    recorder.status = 500
    with FakePlatforms(callback_url=recorder.url, meta_app_secret=SECRET) as fake:
        comment = fake.seed_comment("facebook", account_id=PAGE, post_id=POST, text="x")
        FacebookClient(graph(fake)).hide(comment.comment_id, TOKEN)
        [refused] = fake.wait_for_echoes(1)
        assert (refused.status, refused.error) == (500, "the callback answered HTTP 500")

        fake.set_callback("http://127.0.0.1:9")  # nothing listens on the discard port
        FacebookClient(graph(fake)).unhide(comment.comment_id, TOKEN)
        unreachable = fake.wait_for_echoes(2)[1]
        assert unreachable.status is None
        assert unreachable.error
        assert "delivery failed" in unreachable.error
        assert fake.comment("facebook", comment.comment_id).state == "visible"


def test_the_http_surface_for_humans_and_other_processes(fake: FakePlatforms) -> None:
    def call(method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(fake.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=2) as answer:
            return answer.status, json.loads(answer.read())

    assert call("GET", "/__health") == (200, {"status": "ok"})
    status, seeded = call(
        "POST", "/__comments", {"platform": "facebook", "account_id": PAGE, "post_id": POST, "text": "seeded"}
    )
    assert status == 201
    assert seeded[0]["state"] == "visible"
    assert call("POST", "/__faults", {"operation": "facebook.hide", "times": 1, "status": 503})[0] == 201

    platforms = Platforms(facebook=FacebookClient(graph(fake)))
    platforms.action("facebook", "hide", seeded[0]["comment_id"], TOKEN)

    _, calls = call("GET", "/__calls")
    assert [(c["operation"], c["status"], c["token_location"]) for c in calls] == [
        ("facebook.hide", 503, "header"),
        ("facebook.hide", 200, "header"),
    ]
    assert TOKEN not in json.dumps(calls)
    _, comments = call("GET", "/__comments")
    assert comments[0]["state"] == "hidden"
    fake.wait_for_echoes(1)
    _, echoes = call("GET", "/__echoes")
    assert echoes[0]["status"] == 200


def test_a_token_in_the_url_is_recorded_as_such_but_never_kept(fake: FakePlatforms) -> None:
    # What a careless client would do: the fake notices, and still never stores the token
    comment = fake.seed_comment("facebook", account_id=PAGE, post_id=POST, text="x")
    request = urllib.request.Request(
        f"{fake.graph_url}/{comment.comment_id}?access_token={TOKEN}", data=b"is_hidden=true", method="POST"
    )
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    with urllib.request.urlopen(request, timeout=2) as answer:
        assert json.loads(answer.read()) == {"success": True}
    [recorded] = fake.calls()
    assert recorded.token_location == "query"
    assert recorded.token_presented
    assert TOKEN not in repr(recorded)
