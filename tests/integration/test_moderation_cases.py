"""Signed Facebook deliveries through receiver → queue → processor on moto, moderated, acted on through the fake
platform server, and the platform's echo of our own hide skipped."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from infrastructure.local.fake_platforms import FakePlatforms
from infrastructure.local.provision import Provisioned
from shared import audit, catalogue, ingest
from shared.domain.cases import Case, CaseState
from shared.domain.content import Change
from shared.store import intake
from shared.store.case_store import CaseStore
from shared.store.content_store import ContentStore
from tests.conftest import REGION
from tests.fixtures import fixture
from tests.integration.test_processor import Pipeline

PAGE = "1234567890321"  # a sample account: the local platform-tokens secret holds a token for it
POST = f"{PAGE}_901097836652708"
THREAT = "I will kill you if you come near the school again"
PHONE = "Call the coach at home, 555-867-5309, and tell him"
ABUSE = "please help, my stepdad hits me every night"
CLEAN = "Thanks for posting the new bus schedule!"
CRITICISM = (
    "The board's decision to cut the music program is a disgrace. The superintendent is incompetent and "
    "should resign; every one of you should be ashamed."
)


def delivery(comment_id: str, text: str, *, author: str = "9988776655") -> bytes:
    template = json.loads(fixture("fb_feed_comment_add_1.json"))
    entry = template["entry"][0]
    value = {
        **entry["changes"][0]["value"],
        "comment_id": comment_id,
        "post_id": POST,
        "parent_id": POST,
        "from": {"id": author, "name": "A Parent"},
        "created_time": int(datetime.now(UTC).timestamp()),
        "message": text,
    }
    entry = {
        **entry,
        "time": int(datetime.now(UTC).timestamp()),
        "changes": [{"field": "feed", "value": value}],
    }
    return json.dumps({**template, "entry": [entry]}).encode()


@pytest.fixture
def pipeline(moto_env: Provisioned, fake: FakePlatforms) -> Pipeline:
    return Pipeline(moto_env)


@pytest.fixture
def incidents(moto_env: Provisioned) -> Any:
    """An SQS queue subscribed to the incidents topic; returns a reader of the notices it received."""
    sqs = boto3.client("sqs", region_name=REGION)
    sns = boto3.client("sns", region_name=REGION)
    url = sqs.create_queue(QueueName=f"incidents-reader-{id(moto_env)}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=moto_env.env[catalogue.topic("incidents").env_var], Protocol="sqs", Endpoint=arn)

    def read() -> list[dict[str, Any]]:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in messages]

    return read


def seed(fake: FakePlatforms, comment_id: str, text: str) -> None:
    fake.seed_comment("facebook", account_id=PAGE, post_id=POST, comment_id=comment_id, text=text)


def cases_of(item_id: str) -> list[Case]:
    return [c for c in CaseStore().by_account("facebook", PAGE) if c.item_id == item_id]


def actions(resource: str) -> list[str]:
    return [e.action for e in audit.log().for_resource(resource)]


def test_a_threat_is_archived_then_hidden_notified_and_audited(
    pipeline: Pipeline, fake: FakePlatforms, incidents: Any
) -> None:
    comment = f"{POST.split('_')[1]}_7001"
    seed(fake, comment, THREAT)
    assert pipeline.deliver("threat.json", delivery(comment, THREAT)) == 200
    pipeline.drain()

    (case,) = cases_of(comment)
    assert case.rule_id == "threat-violence"
    assert case.category == "threats_incitement"
    assert case.action == "critical"
    assert case.state is CaseState.ACTIONED
    assert case.ruleset_version
    assert case.citation.quote
    assert case.matches[0].span == (0, len("I will kill you"))
    assert case.notified_at is not None
    assert case.pending_action is not None
    # Archived before the case: the archive holds the version the case names, and the trail says so in order.
    assert case.archive_key in pipeline.archive()
    item_trail = ingest.custody("facebook", PAGE, comment)
    case_trail = audit.log().for_resource(f"case:{case.case_id}")
    assert item_trail[0].action == "content.recorded"
    assert any(e["item"] == f"facebook:{PAGE}:{comment}" for e in item_trail[0].details["events"])
    assert item_trail[0].at <= case_trail[0].at
    assert [e.action for e in case_trail] == [
        "moderation.case_opened",
        "moderation.hidden",
        "moderation.incident_notified",
    ]
    hidden = case_trail[1].details
    assert hidden["rule_id"] == "threat-violence"
    assert hidden["category"] == "threats_incitement"
    assert hidden["citation"]["document"]
    assert hidden["ruleset_version"] == case.ruleset_version
    # The platform got the hide, with a token in the header.
    (call,) = fake.calls("facebook.hide")
    assert call.path.endswith(f"/{comment}")
    assert call.form == {"is_hidden": "true"}
    assert call.token_location == "header"
    assert call.status == 200
    assert fake.comment("facebook", comment).state == "hidden"
    # The director is told, with the law-enforcement contact and the threat itself (it is not sensitive).
    (envelope,) = incidents()
    notice = json.loads(envelope["Message"])
    assert notice["case_id"] == case.case_id
    assert notice["category"] == "threats_incitement"
    assert notice["account_id"] == PAGE
    assert notice["report_to"][0]["duty"] == "law_enforcement"
    assert "Sheriff" in notice["report_to"][0]["contact"] or "sheriff" in notice["report_to"][0]["contact"]
    assert notice["excerpts"] == ["I will kill you"]
    # The item's history says Steward hid it.
    history = ContentStore().get("facebook", PAGE, comment)
    assert history is not None
    assert history.history.current.state == "hidden"
    assert [e.origin for e in history.history.events if e.change is Change.HIDDEN] == ["steward"]
    assert audit.verify().ok


def test_a_sensitive_match_is_notified_without_its_text(
    pipeline: Pipeline, fake: FakePlatforms, incidents: Any
) -> None:
    comment = f"{POST.split('_')[1]}_7002"
    seed(fake, comment, ABUSE)
    assert pipeline.deliver("abuse.json", delivery(comment, ABUSE)) == 200
    pipeline.drain()
    (case,) = cases_of(comment)
    assert case.rule_id == "abuse-disclosure"
    assert case.sensitive
    assert case.state is CaseState.ACTIONED
    assert all(m.excerpt is None for m in case.matches)
    (envelope,) = incidents()
    assert "stepdad" not in json.dumps(envelope)
    assert "hits me" not in json.dumps(envelope)
    notice = json.loads(envelope["Message"])
    assert notice["report_to"][0]["duty"] == "child_protective_services"
    assert "excerpts" not in notice
    assert notice["sensitive"] is True
    for entry in audit.log().for_resource(f"case:{case.case_id}"):
        assert "stepdad" not in json.dumps(entry.details)


def test_a_phone_number_is_hidden_without_a_notice(
    pipeline: Pipeline, fake: FakePlatforms, incidents: Any
) -> None:
    comment = f"{POST.split('_')[1]}_7003"
    seed(fake, comment, PHONE)
    pipeline.deliver("phone.json", delivery(comment, PHONE))
    pipeline.drain()
    (case,) = cases_of(comment)
    assert (case.rule_id, case.action, case.state) == ("phone-number", "hide", CaseState.ACTIONED)
    assert case.category == "private_information"
    assert case.notified_at is None
    assert [c.path.rsplit("/", 1)[1] for c in fake.calls("facebook.hide")] == [comment]
    assert incidents() == []
    assert actions(f"case:{case.case_id}") == ["moderation.case_opened", "moderation.hidden"]


def test_clean_comments_and_sharp_criticism_open_no_case(
    pipeline: Pipeline, fake: FakePlatforms, incidents: Any
) -> None:
    for n, text in enumerate((CLEAN, CRITICISM)):
        comment = f"{POST.split('_')[1]}_710{n}"
        seed(fake, comment, text)
        pipeline.deliver(f"clean{n}.json", delivery(comment, text))
    pipeline.drain()
    assert len(pipeline.index()) == 2
    assert CaseStore().by_account("facebook", PAGE) == []
    assert fake.calls() == []
    assert incidents() == []


def test_a_comment_by_the_account_itself_is_not_moderated(pipeline: Pipeline, fake: FakePlatforms) -> None:
    comment = f"{POST.split('_')[1]}_7200"
    pipeline.deliver("own.json", delivery(comment, PHONE, author=PAGE))
    pipeline.drain()
    assert cases_of(comment) == []
    assert fake.calls() == []


def test_a_platform_failure_leaves_the_case_action_failed_and_the_delivery_recorded(
    pipeline: Pipeline, fake: FakePlatforms
) -> None:
    comment = f"{POST.split('_')[1]}_7300"
    seed(fake, comment, PHONE)
    fake.fail_next("facebook.hide", times=5, status=500)
    assert pipeline.deliver("phone.json", delivery(comment, PHONE)) == 200
    pipeline.drain()
    assert pipeline.dead_letters() == []
    assert f"ITEM#facebook#{PAGE}#{comment}" in pipeline.index()  # the delivery is recorded
    (case,) = cases_of(comment)
    assert case.state is CaseState.ACTION_FAILED
    assert case.pending_action is None
    assert case.transitions[-1].details["error"] == "platform_unavailable"
    assert case in CaseStore().by_state(CaseState.ACTION_FAILED)  # open and visible in the queue
    assert len(fake.calls("facebook.hide")) == 2  # the client's attempts
    assert fake.comment("facebook", comment).state == "visible"
    assert actions(f"case:{case.case_id}") == ["moderation.case_opened", "moderation.hide_failed"]
    # A redelivery does not retry behind the moderators' backs, nor open a second case.
    pipeline.deliver("phone.json", delivery(comment, PHONE))
    pipeline.drain()
    assert len(cases_of(comment)) == 1
    assert len(fake.calls("facebook.hide")) == 2


def test_an_account_without_a_token_leaves_the_case_action_failed(
    pipeline: Pipeline, fake: FakePlatforms, moto_env: Provisioned
) -> None:
    body = delivery("555_1", PHONE).replace(PAGE.encode(), b"4242424242")
    pipeline.deliver("phone.json", body)
    pipeline.drain()
    (case,) = CaseStore().by_account("facebook", "4242424242")
    assert case.state is CaseState.ACTION_FAILED
    assert case.transitions[-1].details == {"error": "no_token"}
    assert fake.calls() == []


def test_the_echo_of_our_own_hide_is_skipped(pipeline: Pipeline, fake: FakePlatforms) -> None:
    comment = f"{POST.split('_')[1]}_7400"
    seed(fake, comment, PHONE)
    pipeline.deliver("phone.json", delivery(comment, PHONE))
    pipeline.drain()
    (echo,) = fake.wait_for_echoes(1)  # no callback is configured: the fake keeps what it would have sent
    assert echo.json()["entry"][0]["changes"][0]["value"]["verb"] == "hide"

    # The platform's echo arrives as an ordinary signed delivery.
    assert pipeline.deliver("echo.json", echo.body) == 200
    (message,) = pipeline.sqs.receive_message(QueueUrl=pipeline.env.queue_urls["intake"]).get("Messages", [])
    report = ingest.ingest(intake.parse_pointer(message["Body"]))
    assert report.skipped["own_echo"] == 1
    assert report.recorded == 0
    # A redelivery of the same echo is recognised too.
    pipeline.deliver("echo.json", echo.body)
    (message,) = pipeline.sqs.receive_message(
        QueueUrl=pipeline.env.queue_urls["intake"], VisibilityTimeout=0
    ).get("Messages", [])
    assert ingest.ingest(intake.parse_pointer(message["Body"])).skipped["own_echo"] >= 1

    stored = ContentStore().get("facebook", PAGE, comment)
    assert stored is not None
    hides = [e for e in stored.history.events if e.change is Change.HIDDEN]
    assert [(e.origin, e.changed_by) for e in hides] == [("steward", "account")]
