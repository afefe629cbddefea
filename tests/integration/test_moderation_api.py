"""The moderator API on moto: real cases made by signed deliveries through receiver → processor (hidden on the fake
platform server), then listed, viewed and decided through the moderation-api handler."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from functions.moderation_api.handler import handler as moderation_api
from infrastructure.local.fake_platforms import FakePlatforms
from infrastructure.local.provision import Provisioned
from shared import audit, ingest
from shared.domain.cases import Case, CaseState
from shared.domain.content import Change
from shared.settings import get_settings
from shared.store import intake
from shared.store.case_store import CaseStore
from shared.store.content_store import ContentStore
from tests.conftest import REGION, FakeContext
from tests.events import rest_event
from tests.integration.test_moderation_cases import ABUSE, PAGE, PHONE, POST, delivery
from tests.integration.test_processor import Pipeline

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

PHONES = {"overturn": "_8001", "confirm": "_8002", "escalate": "_8003"}
SENSITIVE = "_8009"


def comment_id(suffix: str) -> str:
    return f"{POST.split('_')[1]}{suffix}"


@pytest.fixture
def pipeline(moto_env: Provisioned, fake: FakePlatforms) -> Pipeline:
    return Pipeline(moto_env)


@pytest.fixture
def cases(pipeline: Pipeline, fake: FakePlatforms) -> dict[str, Case]:
    """Given three comments with a phone number and one abuse disclosure, delivered, moderated and hidden."""
    texts = {
        **{name: (comment_id(s), PHONE) for name, s in PHONES.items()},
        "sensitive": (comment_id(SENSITIVE), ABUSE),
    }
    for n, (name, (comment, text)) in enumerate(texts.items()):
        fake.seed_comment("facebook", account_id=PAGE, post_id=POST, comment_id=comment, text=text)
        # A different author each: one author repeating a comment would also open a spam-repetition case.
        body = delivery(comment, text, author=f"99887766{n:02d}")
        assert pipeline.deliver(f"{name}.json", body) == 200
    pipeline.drain()
    opened = CaseStore().by_account("facebook", PAGE)
    assert len(opened) == len(texts)
    found = {c.item_id: c for c in opened}
    out = {name: found[comment] for name, (comment, _) in texts.items()}
    assert all(c.state is CaseState.ACTIONED for c in out.values())
    assert all(fake.comment("facebook", c.item_id).state == "hidden" for c in out.values())
    fake.wait_for_echoes(len(out))
    return out


def call(
    method: str,
    path: str,
    *,
    roles: tuple[str, ...] = ("moderators",),
    body: Any = None,
    query: dict[str, str] | None = None,
) -> tuple[int, Any]:
    response = moderation_api(rest_event(method, path, roles=roles, body=body, query=query), FakeContext())
    return response["statusCode"], json.loads(response["body"])


def decide(case: Case, decision: str, body: Any, roles: tuple[str, ...] = ("moderators",)) -> tuple[int, Any]:
    return call("POST", f"/moderation/cases/{case.case_id}/{decision}", roles=roles, body=body)


def trail(case: Case) -> list[audit.AuditEntry]:
    return audit.log().for_resource(f"case:{case.case_id}")


def stored(case: Case) -> Case:
    held = CaseStore().get(case.case_id)
    assert held is not None
    return held.case


# --------------------------------------------------------------------------------------------- queue and view
def test_moderators_list_and_view_a_case_with_its_archived_evidence(
    cases: dict[str, Case], pipeline: Pipeline
) -> None:
    status, page = call("GET", "/moderation/cases")
    assert status == 200, page
    listed = {c["case_id"] for c in page["cases"]}
    assert {cases[n].case_id for n in PHONES} == listed  # the sensitive case is not shown to moderators
    assert page["next_cursor"] is None

    case = cases["overturn"]
    status, view = call("GET", f"/moderation/cases/{case.case_id}")
    assert status == 200, view
    assert (view["rule_id"], view["category"], view["state"]) == (
        "phone-number",
        "private_information",
        "actioned",
    )
    assert view["citation"]["document"]
    assert view["citation"]["quote"]
    assert view["ruleset_version"] == case.ruleset_version
    assert [t["to_state"] for t in view["transitions"]] == ["open", "actioned"]
    evidence = view["evidence"]
    assert evidence["item"]["state"] == "hidden"
    assert evidence["item"]["text"] == PHONE
    archived = evidence["flagged_version"]
    assert archived["archive_key"] == case.archive_key
    assert archived["archive_key"] in pipeline.archive()
    assert archived["event"]["event_id"] == case.event_id
    assert archived["event"]["text"] == PHONE
    assert evidence["matches"][0]["excerpt"] == "555-867-5309"


def test_the_queue_filters_and_pages_with_a_stable_cursor(cases: dict[str, Case]) -> None:
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(5):
        query = {"limit": "1", **({"cursor": cursor} if cursor else {})}
        status, page = call("GET", "/moderation/cases", query=query)
        assert status == 200, page
        seen += [c["case_id"] for c in page["cases"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(cases[n].case_id for n in PHONES)
    assert len(seen) == len(set(seen))

    for query in (
        {"account": f"facebook:{PAGE}"},
        {"category": "private_information"},
        {"state": "actioned", "account": f"facebook:{PAGE}", "category": "private_information"},
    ):
        status, page = call("GET", "/moderation/cases", query=query)
        assert status == 200, page
        assert len(page["cases"]) == 3, query
    status, page = call("GET", "/moderation/cases", query={"state": "confirmed"})
    assert (status, page["cases"]) == (200, [])
    status, page = call("GET", "/moderation/cases", query={"account": "facebook:0000"})
    assert (status, page["cases"]) == (200, [])


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"state": "pending"}, "state"),
        ({"category": "rudeness"}, "category"),
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"account": "myspace:1"}, "account"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ],
)
def test_a_bad_query_parameter_is_422_naming_it(
    moto_env: Provisioned, query: dict[str, str], named: str
) -> None:
    status, body = call("GET", "/moderation/cases", query=query)
    assert status == 422, body
    assert named in body["message"]


def test_a_cursor_only_fits_the_filters_it_was_made_for(cases: dict[str, Case]) -> None:
    _, page = call("GET", "/moderation/cases", query={"limit": "1"})
    status, body = call(
        "GET", "/moderation/cases", query={"limit": "1", "cursor": page["next_cursor"], "state": "open"}
    )
    assert status == 422
    assert "cursor" in body["message"]


def test_unknown_and_malformed_case_ids(moto_env: Provisioned) -> None:
    status, body = call("GET", f"/moderation/cases/{'a' * 64}")
    assert (status, body["code"]) == (404, "not_found")
    status, body = call("GET", "/moderation/cases/not-a-case")
    assert status == 422
    assert "case_id" in body["message"]


# --------------------------------------------------------------------------------------------- decisions
def test_overturn_restores_the_comment_records_the_decision_and_audits_it(
    cases: dict[str, Case], fake: FakePlatforms, pipeline: Pipeline
) -> None:
    case = cases["overturn"]
    echoes = len(fake.echoes())
    status, body = decide(case, "overturn", {"reason": "The number is the school office's public line."})
    assert status == 200, body
    assert body["platform"] == "unhide"
    assert body["case"]["state"] == "overturned"
    # The fake platform got the unhide, and the comment is visible again.
    (unhide,) = fake.calls("facebook.unhide")
    assert unhide.path.endswith(f"/{case.item_id}")
    assert unhide.form == {"is_hidden": "false"}
    assert fake.comment("facebook", case.item_id).state == "visible"
    # The case is overturned, with who and why.
    now = stored(case)
    assert now.state is CaseState.OVERTURNED
    last = now.transitions[-1]
    assert (last.actor, last.reason) == ("user:tester", "The number is the school office's public line.")
    # The audit has the decision with the reason and the rule.
    entry = trail(case)[-1]
    assert (entry.action, entry.actor) == ("moderation.overturned", "user:tester")
    assert entry.details["reason"] == "The number is the school office's public line."
    assert entry.details["rule_id"] == "phone-number"
    assert entry.details["from_state"] == "actioned"
    # The restore is in the item's history as Steward's own event, and the platform's echo of it is skipped.
    history = ContentStore().get("facebook", PAGE, case.item_id)
    assert history is not None
    assert history.history.current.state == "visible"
    assert [e.origin for e in history.history.events if e.change is Change.UNHIDDEN] == ["steward"]
    echo = fake.wait_for_echoes(echoes + 1)[-1]
    assert echo.json()["entry"][0]["changes"][0]["value"]["verb"] == "unhide"
    assert pipeline.deliver("echo.json", echo.body) == 200
    (message,) = pipeline.sqs.receive_message(QueueUrl=pipeline.env.queue_urls["intake"]).get("Messages", [])
    assert ingest.ingest(intake.parse_pointer(message["Body"])).skipped["own_echo"] == 1
    # A final case cannot be decided again.
    status, body = decide(case, "confirm", {"reason": "second thoughts"})
    assert status == 409
    assert "overturned" in body["message"]
    assert audit.verify().ok


def test_confirm_keeps_the_action_and_escalate_marks_it_for_the_director(
    cases: dict[str, Case], fake: FakePlatforms
) -> None:
    status, body = decide(cases["confirm"], "confirm", {"reason": "A private home number."})
    assert (status, body["case"]["state"], body["platform"]) == (200, "confirmed", None)
    assert fake.comment("facebook", cases["confirm"].item_id).state == "hidden"
    assert trail(cases["confirm"])[-1].action == "moderation.confirmed"

    sqs, sns = boto3.client("sqs", region_name=REGION), boto3.client("sns", region_name=REGION)
    reader = sqs.create_queue(QueueName="escalations-reader")["QueueUrl"]
    reader_arn = sqs.get_queue_attributes(QueueUrl=reader, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=get_settings().topic_arn("incidents"), Protocol="sqs", Endpoint=reader_arn)
    status, body = decide(cases["escalate"], "escalate", {"reason": "Unsure whose number this is."})
    assert (status, body["case"]["state"]) == (200, "escalated")
    [notice] = [
        json.loads(json.loads(m["Body"])["Message"]) for m in sqs.receive_message(QueueUrl=reader)["Messages"]
    ]
    assert (notice["kind"], notice["case_id"], notice["reason"]) == (
        "case_escalated",
        cases["escalate"].case_id,
        "Unsure whose number this is.",
    )
    assert "text" not in notice
    assert trail(cases["escalate"])[-1].details["reason"] == "Unsure whose number this is."
    status, page = call("GET", "/moderation/cases", roles=("communications",), query={"state": "escalated"})
    assert [c["case_id"] for c in page["cases"]] == [cases["escalate"].case_id]
    # Escalated once; it cannot be escalated again, but the director can decide it.
    assert decide(cases["escalate"], "escalate", {"reason": "again"})[0] == 409
    status, body = decide(
        cases["escalate"], "confirm", {"reason": "Confirmed: a parent's number."}, ("communications",)
    )
    assert (status, body["case"]["state"]) == (200, "confirmed")
    assert fake.calls("facebook.unhide") == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"reason": ""},
        {"reason": "no"},
        {"reason": "x" * 1001},
        {"reason": "fine reason", "state": "confirmed"},
    ],
)
def test_a_decision_without_a_proper_reason_is_422_and_changes_nothing(
    cases: dict[str, Case], body: Any
) -> None:
    case = cases["confirm"]
    before = len(trail(case))
    status, answer = decide(case, "confirm", body)
    assert status == 422, answer
    assert stored(case).state is CaseState.ACTIONED
    assert len(trail(case)) == before


def test_staff_may_not_see_or_decide(cases: dict[str, Case]) -> None:
    assert call("GET", "/moderation/cases", roles=("staff",))[0] == 403
    assert call("GET", f"/moderation/cases/{cases['confirm'].case_id}", roles=("staff",))[0] == 403
    assert decide(cases["confirm"], "confirm", {"reason": "not mine"}, ("staff",))[0] == 403
    assert decide(cases["confirm"], "confirm", {"reason": "records only read"}, ("records",))[0] == 403
    assert call("GET", f"/moderation/cases/{cases['confirm'].case_id}", roles=("records",))[0] == 200
    assert stored(cases["confirm"]).state is CaseState.ACTIONED


def test_a_platform_failure_on_overturn_is_503_and_changes_nothing(
    cases: dict[str, Case], fake: FakePlatforms
) -> None:
    case = cases["overturn"]
    fake.fail_next("facebook.unhide", times=5, status=500)
    status, body = decide(case, "overturn", {"reason": "The number is public."})
    assert status == 503, body
    assert stored(case).state is CaseState.ACTIONED
    assert stored(case).pending_action == case.pending_action
    assert fake.comment("facebook", case.item_id).state == "hidden"
    failed = trail(case)[-1]
    assert (failed.action, failed.actor) == ("moderation.overturn_failed", "user:tester")
    assert failed.details["reason"] == "The number is public."
    assert failed.details["rule_id"] == "phone-number"
    # Once the platform answers again, the overturn goes through.
    fake.clear_faults()
    assert decide(case, "overturn", {"reason": "The number is public."})[0] == 200


# --------------------------------------------------------------------------------------------- sensitive
def test_a_sensitive_case_is_hidden_from_moderators_and_its_text_from_everyone(
    cases: dict[str, Case],
) -> None:
    case = cases["sensitive"]
    # Moderators: it does not exist for them (404, as an unknown id), in the queue or by id, nor can they decide it.
    status, body = call("GET", f"/moderation/cases/{case.case_id}")
    assert (status, body["code"]) == (404, "not_found")
    assert decide(case, "overturn", {"reason": "let me see"})[0] == 404
    assert call("GET", f"/moderation/cases/{case.case_id}", roles=("records",))[0] == 404
    # Communications see it, without the text.
    status, page = call("GET", "/moderation/cases", roles=("communications",))
    assert case.case_id in {c["case_id"] for c in page["cases"]}
    status, view = call("GET", f"/moderation/cases/{case.case_id}", roles=("communications",))
    assert status == 200, view
    assert view["sensitive"] is True
    assert view["evidence"]["withheld"] is True
    assert "child_protective_services" in {c["duty"] for c in view["evidence"]["contacts"]}
    raw = json.dumps(view)
    assert "stepdad" not in raw
    assert "hits me" not in raw
    status, decided = decide(case, "escalate", {"reason": "Reported to CPS."}, ("communications",))
    assert status == 200
    assert "stepdad" not in json.dumps(decided)


# --------------------------------------------------------------------------------------------- reports
def test_the_removals_report_counts_by_month_and_category(
    cases: dict[str, Case], fake: FakePlatforms
) -> None:
    decide(cases["overturn"], "overturn", {"reason": "public number"})
    decide(cases["confirm"], "confirm", {"reason": "private number"})
    month = datetime.now(UTC).strftime("%Y-%m")
    status, report = call(
        "GET", "/moderation/reports/removals", roles=("records",), query={"from": month, "to": month}
    )
    assert status == 200, report
    rows = {r["category"]: r for r in report["rows"]}
    private = rows["private_information"]
    assert (private["month"], private["opened"], private["hidden"]) == (month, 3, 3)
    assert (private["confirmed"], private["overturned"]) == (1, 1)
    sensitive = rows["safety_disclosure"]  # counted like any other case: a count reveals no text
    assert (sensitive["opened"], sensitive["hidden"], sensitive["confirmed"]) == (1, 1, 0)
    assert report["totals"]["opened"] == 4
    # An earlier range holds nothing.
    assert (
        call("GET", "/moderation/reports/removals", query={"from": "2001-01", "to": "2001-12"})[1]["rows"]
        == []
    )


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"from": "2026-13", "to": "2026-12"}, "from"),
        ({"from": "2026-01", "to": "26-1"}, "to"),
        ({"from": "2026-05", "to": "2026-01"}, "to"),
        ({"from": "2026-01"}, "to"),
    ],
)
def test_a_bad_report_range_is_422_naming_it(
    moto_env: Provisioned, query: dict[str, str], named: str
) -> None:
    status, body = call("GET", "/moderation/reports/removals", query=query)
    assert status == 422, body
    assert named in body["message"]


def test_the_rule_set_is_published_to_every_role(moto_env: Provisioned) -> None:
    status, body = call("GET", "/moderation/ruleset", roles=("staff",))
    assert status == 200, body
    assert body["version"]
    assert body["viewpoint_neutrality"]
    phone = next(r for r in body["rules"] if r["id"] == "phone-number")
    assert phone["category"] == "private_information"
    assert phone["citations"][0]["quote"]


def test_overturning_one_rule_leaves_the_comment_hidden_while_another_rule_still_hides_it(
    pipeline: Pipeline, fake: FakePlatforms
) -> None:
    # Given one comment that breaks two hide rules (a phone number and an email address), hidden once
    comment = comment_id("_8100")
    text = "Call 360-555-0199 or write to jane.doe@example.com about it"
    fake.seed_comment("facebook", account_id=PAGE, post_id=POST, comment_id=comment, text=text)
    assert pipeline.deliver("two-rules.json", delivery(comment, text, author="9988776650")) == 200
    pipeline.drain()
    both = sorted(
        (c for c in CaseStore().by_account("facebook", PAGE) if c.item_id == comment), key=lambda c: c.rule_id
    )
    assert [c.rule_id for c in both] == ["email-address", "phone-number"]
    fake.wait_for_echoes(1)

    hider = next(c for c in both if c.platform_performed is not None)
    other = next(c for c in both if c is not hider)

    # When the case that hid it is overturned, the other rule's case still justifies the hide: nothing is restored
    status, body = decide(
        hider, "overturn", {"reason": "That part of the comment is the district's own contact."}
    )
    assert (status, body["case"]["state"], body["platform"]) == (200, "overturned", None)
    assert fake.calls("facebook.unhide") == []
    assert fake.comment("facebook", comment).state == "hidden"

    # When the other case is overturned too, nothing justifies the hide any more: the comment is restored
    status, body = decide(other, "overturn", {"reason": "The rest is public contact information as well."})
    assert (status, body["platform"]) == (200, "unhide")
    assert fake.comment("facebook", comment).state == "visible"
