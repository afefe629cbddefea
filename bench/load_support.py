"""The pieces of the load test (``python -m bench.load``): the workload, the senders, the wait for the queues to
drain and the checks of what the system recorded.

The workload is planned before anything is sent, so what each item must end up as (its versions, their texts,
its archived events) comes from what is sent, never from what the system reports. Every delivery is a real
platform payload (the shapes of ``events/deliveries``) signed with the secret the running system holds.
"""

from __future__ import annotations

import copy
import heapq
import http.client
import json
import random
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from infrastructure.local import spawn
from shared.domain import webhooks
from shared.domain.webhooks import Platform

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "events" / "deliveries"
# Official accounts of the sample data (infrastructure/local/provision.py LOCAL_ACCOUNTS).
FACEBOOK_PAGES = ("1234567890321", "448242228374517", "889083480945134")
INSTAGRAM_ACCOUNTS = ("17841478854980502",)
X_ACCOUNTS = ("2975699229", "3198576760", "930524282358325248")
SIGNATURE_HEADER: dict[Platform, str] = {"meta": "X-Hub-Signature-256", "x": "x-twitter-webhooks-signature"}
SECRET: dict[Platform, tuple[str, str]] = {
    "meta": ("STEWARD_SECRET_META_APP", "app_secret"),
    "x": ("STEWARD_SECRET_X_APP", "consumer_secret"),
}
# Plain questions and thanks that match no moderation rule (a hide would add a version the plan does not expect).
TOPICS = (
    "the spring concert schedule",
    "the library hours during break",
    "the robotics team fundraiser",
    "the science fair judging",
    "the bus route for the field trip",
    "the parent night agenda",
)
SLOWEST = 5  # the slowest round trips reported, with when they were sent
BASE_TIME = 1_795_000_000  # seconds: November 2026, when the sample data was written


ItemKey = tuple[str, str, str]  # (content platform, account id, item id), as the content index names an item


@dataclass(frozen=True)
class Delivery:
    webhook: Platform
    body: bytes
    item: ItemKey
    label: str  # add, edit1, edit2


@dataclass
class Item:
    key: ItemKey
    shape: str  # how its deliveries are ordered: single, in_order, edit_first, edits_swapped
    texts: list[str]  # the expected versions' texts, oldest first
    deliveries: list[Delivery] = field(default_factory=list)  # its distinct deliveries, in sending order
    sender: int = 0  # the sender that sends them


@dataclass
class Plan:
    items: list[Item]
    queues: list[list[Delivery]]  # one list per sender, sent in this order
    duplicates: int  # extra copies of deliveries already in the plan

    @property
    def deliveries(self) -> int:
        return sum(len(q) for q in self.queues)

    def shapes(self) -> dict[str, int]:
        return dict(Counter(item.shape for item in self.items))


def _template(name: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((TEMPLATES / name).read_bytes())
    return value


def _body(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def _text(n: int, revision: int, rng: random.Random) -> str:
    topic = rng.choice(TOPICS)
    if revision == 0:
        return f"Load comment {n}: a question about {topic}."
    return f"Load comment {n}, revised {revision}: thank you for the answer about {topic}."


def _facebook(n: int, run: int, shape: str, rng: random.Random) -> Item:
    page = FACEBOOK_PAGES[n % len(FACEBOOK_PAGES)]
    post = f"{run}{n % 50:04d}"
    comment_id = f"{post}_{run}{n:07d}"
    created = BASE_TIME + n
    edits = {"single": 0, "in_order": 1, "edit_first": 1, "edits_swapped": 2}[shape]
    texts = [_text(n, r, rng) for r in range(edits + 1)]
    template = _template("facebook_comment_clean.json")

    def delivery(label: str, verb: str, at: int, text: str) -> Delivery:
        doc = copy.deepcopy(template)
        entry = doc["entry"][0]
        entry["id"], entry["time"] = page, at
        value = entry["changes"][0]["value"]
        value.update(
            verb=verb,
            comment_id=comment_id,
            post_id=f"{page}_{post}",
            parent_id=f"{page}_{post}",
            created_time=created,
            message=text,
        )
        value["from"] = {"id": f"7{n % 997:03d}", "name": f"Load Visitor {n % 997}"}
        return Delivery("meta", _body(doc), ("facebook", page, comment_id), label)

    # An edit happens at the entry's time: a minute apart, so the versions' order is the edits' order.
    made = [delivery("add", "add", created, texts[0])]
    made += [delivery(f"edit{r}", "edited", created + 60 * r, texts[r]) for r in range(1, edits + 1)]
    order = {
        "single": [0],
        "in_order": [0, 1],
        "edit_first": [1, 0],  # the edit reaches Steward before the comment it edits
        "edits_swapped": [0, 2, 1],  # the second edit arrives before the first
    }[shape]
    return Item(made[0].item, shape, texts, [made[i] for i in order])


def _instagram(n: int, run: int, rng: random.Random) -> Item:
    account = INSTAGRAM_ACCOUNTS[n % len(INSTAGRAM_ACCOUNTS)]
    comment_id = f"179{run}{n:08d}"
    text = _text(n, 0, rng)
    doc = _template("instagram_comment.json")
    entry = doc["entry"][0]
    entry["id"], entry["time"] = account, BASE_TIME + n
    value = entry["changes"][0]["value"]
    value.update(id=comment_id, text=text)
    value["from"] = {"id": f"8{n % 997:03d}", "username": f"load_parent_{n % 997}"}
    key: ItemKey = ("instagram", account, comment_id)
    return Item(key, "single", [text], [Delivery("meta", _body(doc), key, "add")])


def _x(n: int, run: int, rng: random.Random) -> Item:
    account = X_ACCOUNTS[n % len(X_ACCOUNTS)]
    tweet_id = f"199{run}{n:09d}"
    text = "@LincolnHigh " + _text(n, 0, rng)
    doc = _template("x_reply.json")
    doc["for_user_id"] = account
    tweet = doc["tweet_create_events"][0]
    tweet.update(
        id=int(tweet_id),
        id_str=tweet_id,
        text=text,
        in_reply_to_user_id=int(account),
        in_reply_to_user_id_str=account,
        timestamp_ms=str((BASE_TIME + n) * 1000),
    )
    tweet["user"] = {
        "id": 9000 + n % 997,
        "id_str": str(9000 + n % 997),
        "name": f"Load Follower {n % 997}",
        "screen_name": f"load_follower_{n % 997}",
    }
    key: ItemKey = ("x", account, tweet_id)
    return Item(key, "single", [text], [Delivery("x", _body(doc), key, "add")])


# (kind, weight, distinct deliveries) of each kind of item.
SHAPES: tuple[tuple[str, int, int], ...] = (
    ("facebook:single", 30, 1),
    ("facebook:in_order", 15, 2),
    ("facebook:edit_first", 15, 2),
    ("facebook:edits_swapped", 15, 3),
    ("instagram:single", 13, 1),
    ("x:single", 12, 1),
)


def plan(deliveries: int, senders: int, *, duplicate_share: float = 0.1, seed: int = 8) -> Plan:
    """``deliveries`` signed deliveries for ``senders`` senders: about ``duplicate_share`` of them are second (or
    third) copies of others, sent by another sender at a random point; the rest are the distinct deliveries of
    items of the shapes in :data:`SHAPES`. An item's deliveries go to one sender, so its reordering (an edit
    before its comment, two edits swapped) is the order they are really sent in."""
    if deliveries < 1 or senders < 1:
        raise ValueError("deliveries and senders must be at least 1")
    rng = random.Random(seed)
    run = int(time.time()) % 100_000  # item ids differ from one run to the next, even on the same runtime
    duplicates = int(deliveries * duplicate_share)
    budget = deliveries - duplicates
    items: list[Item] = []
    n = 0
    while budget > 0:
        kind, _, size = rng.choices(SHAPES, weights=[w for _, w, _ in SHAPES])[0]
        if size > budget:
            kind, size = "facebook:single", 1
        platform, shape = kind.split(":")
        if platform == "facebook":
            items.append(_facebook(n, run, shape, rng))
        elif platform == "instagram":
            items.append(_instagram(n, run, rng))
        else:
            items.append(_x(n, run, rng))
        budget -= size
        n += 1
    queues: list[list[Delivery]] = [[] for _ in range(senders)]
    for item in items:
        item.sender = rng.randrange(senders)
        queues[item.sender].extend(item.deliveries)
    distinct = [d for item in items for d in item.deliveries]
    for _ in range(duplicates):
        queue = queues[rng.randrange(senders)]
        queue.insert(rng.randint(0, len(queue)), rng.choice(distinct))
    return Plan(items, queues, duplicates)


# --------------------------------------------------------------------------------------------- runtime
@contextmanager
def local_runtime(workdir: Path | None = None, timeout: float = 120) -> Iterator[dict[str, Any]]:
    """A fresh ``steward local`` in a subprocess on a free port (infrastructure.local.spawn); yields its state."""
    with (
        tempfile.TemporaryDirectory(prefix="steward-load-") as tmp,
        spawn.spawned(workdir or Path(tmp), timeout) as state,
    ):
        yield state


client = spawn.client


def secrets(state: dict[str, Any]) -> dict[Platform, str]:
    """The webhook secrets the running system verifies with, read from its Secrets Manager."""
    sm = client(state, "secretsmanager")
    out: dict[Platform, str] = {}
    for platform, (env_var, name) in SECRET.items():
        value = sm.get_secret_value(SecretId=state["env"][env_var], VersionStage="AWSCURRENT")
        out[platform] = json.loads(value["SecretString"])[name]
    return out


# --------------------------------------------------------------------------------------------- sending
@dataclass
class SendResult:
    # (sent at, seconds into the run; round trip, seconds), one per accepted delivery
    timed: list[tuple[float, float]] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)  # every answer, retried ones included
    failed: list[str] = field(default_factory=list)  # deliveries never accepted
    wall_seconds: float = 0.0

    @property
    def latencies(self) -> list[float]:
        return [took for _, took in self.timed]

    def slowest(self, n: int = SLOWEST) -> list[tuple[float, float]]:
        return heapq.nlargest(n, self.timed, key=lambda sample: sample[1])


def _send_all(
    api_url: str,
    queue: list[Delivery],
    secret: dict[Platform, str],
    result: SendResult,
    lock: threading.Lock,
    origin: float,
) -> None:
    url = urlsplit(api_url)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=120)
    timed: list[tuple[float, float]] = []
    statuses: Counter[int] = Counter()
    failed: list[str] = []
    for delivery in queue:
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER[delivery.webhook]: webhooks.expected_signature(
                delivery.webhook, secret[delivery.webhook], delivery.body
            ),
        }
        # A platform retries a delivery that was not acknowledged; so does the sender, three times.
        for _ in range(3):
            started = time.perf_counter()
            try:
                conn.request("POST", f"/webhooks/{delivery.webhook}", body=delivery.body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                status = 0
            elapsed = time.perf_counter() - started
            statuses[status] += 1
            if status == 200:
                timed.append((started - origin, elapsed))
                break
        else:
            failed.append(f"{'/'.join(delivery.item)} {delivery.label}")
    conn.close()
    with lock:
        result.timed += timed
        result.statuses += statuses
        result.failed += failed


def send(state: dict[str, Any], plan: Plan) -> SendResult:
    """Send every sender's queue from its own thread and keep-alive connection; time each round trip."""
    secret = secrets(state)
    result, lock = SendResult(), threading.Lock()
    origin = time.perf_counter()
    threads = [
        threading.Thread(
            target=_send_all, args=(state["api_url"], queue, secret, result, lock, origin), daemon=True
        )
        for queue in plan.queues
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.wall_seconds = time.perf_counter() - origin
    return result


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (``share`` in 0..1) of ``values``."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))]


# --------------------------------------------------------------------------------------------- draining
def queue_depth(sqs: Any, url: str) -> int:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    names.append("ApproximateNumberOfMessagesDelayed")
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return sum(int(attributes.get(name, 0)) for name in names)


def wait_for_drain(state: dict[str, Any], deadline_seconds: float, poll_seconds: float = 0.5) -> bool:
    """Wait until the intake queue holds nothing, visible or in flight, on three polls in a row (the poller
    deletes a batch only after the processor returned); False if the deadline passed first."""
    sqs = client(state, "sqs")
    url = state["queue_urls"]["intake"]
    deadline = time.monotonic() + deadline_seconds
    empty = 0
    while time.monotonic() < deadline:
        empty = empty + 1 if queue_depth(sqs, url) == 0 else 0
        if empty >= 3:
            return True
        time.sleep(poll_seconds)
    return False


# --------------------------------------------------------------------------------------------- checking
@dataclass
class Check:
    items: int = 0
    lost_items: list[str] = field(default_factory=list)  # sent, not in the content index
    lost_versions: int = 0  # expected versions missing from an indexed item
    duplicated_versions: int = 0  # versions beyond those expected, or two versions made by one event
    wrong_versions: list[str] = field(
        default_factory=list
    )  # the right count but not the texts sent, in order
    lost_events: int = 0  # distinct events sent but not in the write-once archive
    duplicated_events: int = 0  # archived objects beyond the distinct events sent
    unaudited_events: int = 0  # indexed events no content.recorded audit entry lists
    audited_twice: int = 0  # events listed by more than one content.recorded entry (allowed after a retry)
    dead_lettered: dict[str, int] = field(default_factory=dict)
    audit_ok: bool = False
    audit_problems: list[str] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return len(self.lost_items) + self.lost_versions + self.lost_events + self.unaudited_events

    @property
    def duplicated(self) -> int:
        return self.duplicated_versions + self.duplicated_events

    @property
    def ok(self) -> bool:
        return (
            self.lost == 0
            and self.duplicated == 0
            and not self.wrong_versions
            and not any(self.dead_lettered.values())
            and self.audit_ok
        )

    def summary(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "lost": self.lost,
            "duplicated": self.duplicated,
            "lost_items": len(self.lost_items),
            "lost_versions": self.lost_versions,
            "duplicated_versions": self.duplicated_versions,
            "wrong_versions": len(self.wrong_versions),
            "lost_events": self.lost_events,
            "duplicated_events": self.duplicated_events,
            "unaudited_events": self.unaudited_events,
            "audited_twice": self.audited_twice,
            "dead_lettered": sum(self.dead_lettered.values()),
            "audit_verified": self.audit_ok,
        }


def _pk(key: ItemKey) -> str:
    return f"ITEM#{key[0]}#{key[1]}#{key[2]}"


def _scan(ddb: Any, table: str) -> Iterator[dict[str, Any]]:
    for page in ddb.get_paginator("scan").paginate(TableName=table):
        yield from page["Items"]


def _archived(s3: Any, bucket: str) -> Counter[str]:
    """Archived event objects per item pk."""
    counts: Counter[str] = Counter()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="events/"):
        for obj in page.get("Contents", []):
            _, platform, account, item, _ = obj["Key"].split("/")
            counts[f"ITEM#{platform}#{account}#{item}"] += 1
    return counts


def _audited(ddb: Any, table: str) -> Counter[str]:
    """How many content.recorded audit entries list each event id."""
    counts: Counter[str] = Counter()
    for entry in _scan(ddb, table):
        if entry.get("action", {}).get("S") == "content.recorded":
            for event in json.loads(entry["details"]["S"]).get("events", []):
                counts[event["event_id"]] += 1
    return counts


def audit_verify(state: dict[str, Any]) -> tuple[bool, list[str]]:
    """GET /audit/verify through the API as the records officer."""
    from infrastructure.cli import local_token

    url = urlsplit(state["api_url"])
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=600)
    conn.request("GET", "/audit/verify", headers={"Authorization": f"Bearer {local_token(state, 'records')}"})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    if response.status != 200:
        return False, [f"/audit/verify answered {response.status}: {body[:300]!r}"]
    report = json.loads(body)
    problems = [c["problem"]["message"] for c in report["chains"] if c.get("problem")]
    problems += [p["message"] for p in report["anchors"]["problems"]]
    return bool(report["ok"]), problems


def check(state: dict[str, Any], plan: Plan) -> Check:
    """Compare what the system holds with what was sent: each item's versions (count, texts, order) in the
    content index, its events in the write-once archive and in the audit trail; the DLQs; the audit chain."""
    env = state["env"]
    ddb, s3, sqs = client(state, "dynamodb"), client(state, "s3"), client(state, "sqs")
    wanted = {_pk(item.key): item for item in plan.items}
    records = {r["pk"]["S"]: r for r in _scan(ddb, env["STEWARD_TABLE_CONTENT"]) if r["pk"]["S"] in wanted}
    archived = _archived(s3, env["STEWARD_BUCKET_ARCHIVE"])
    audited = _audited(ddb, env["STEWARD_TABLE_AUDIT"])
    out = Check(items=len(plan.items))
    for pk, item in wanted.items():
        distinct = len(item.deliveries)
        held = archived.get(pk, 0)
        out.lost_events += max(0, distinct - held)
        out.duplicated_events += max(0, held - distinct)
        record = records.get(pk)
        if record is None:
            out.lost_items.append(pk)
            continue
        history = json.loads(record["history"]["S"])
        versions = history["versions"]
        by_event = Counter(v["event_id"] for v in versions)
        extra = max(len(versions) - len(item.texts), sum(c - 1 for c in by_event.values()))
        out.duplicated_versions += max(0, extra)
        out.lost_versions += max(0, len(item.texts) - len(versions))
        if len(versions) == len(item.texts) and [v["text"] for v in versions] != item.texts:
            out.wrong_versions.append(pk)
        for event in history["events"]:
            seen = audited.get(event["event_id"], 0)
            out.unaudited_events += seen == 0
            out.audited_twice += seen > 1
    for key, url in state["dlq_urls"].items():
        out.dead_lettered[key] = queue_depth(sqs, url)
    out.audit_ok, out.audit_problems = audit_verify(state)
    return out
