"""Cognito user pool and groups; EventBridge schedules."""

from __future__ import annotations

from typing import Any

from shared import catalogue
from tests.infrastructure.support import Synth, refs


def test_user_pool_is_admin_only_with_required_totp(synth: Synth) -> None:
    (pool,) = synth.of_type("AWS::Cognito::UserPool").values()
    props = pool["Properties"]
    assert pool["DeletionPolicy"] == "Retain"
    assert props["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert props["MfaConfiguration"] == "ON"
    assert props["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    policy = props["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 14
    assert all(
        policy[k] for k in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols")
    )


def test_one_group_per_role(synth: Synth) -> None:
    groups = {g["Properties"]["GroupName"] for g in synth.of_type("AWS::Cognito::UserPoolGroup").values()}
    assert groups == {r.value for r in catalogue.Role}


def test_app_client_has_no_secret_and_no_oauth(synth: Synth) -> None:
    (client,) = synth.of_type("AWS::Cognito::UserPoolClient").values()
    props = client["Properties"]
    assert props.get("GenerateSecret", False) is False
    assert props["PreventUserExistenceErrors"] == "ENABLED"
    assert "AllowedOAuthFlows" not in props


def test_each_schedule_targets_its_function_with_retries_and_a_dead_letter_queue(synth: Synth) -> None:
    rules = synth.of_type("AWS::Events::Rule")
    assert len(rules) == len(catalogue.SCHEDULES)
    dlq_id = synth.logical_id(synth.stack.schedules.dead_letter_queue)
    for s in catalogue.SCHEDULES:
        rule = synth.resource(synth.stack.schedules.rules[s.key])["Properties"]
        assert rule["ScheduleExpression"] == s.expression
        assert rule["State"] == "ENABLED"
        (target,) = rule["Targets"]
        assert refs(target["Arn"]) == {synth.logical_id(synth.stack.functions.functions[s.function])}
        assert refs(target["DeadLetterConfig"]["Arn"]) == {dlq_id}
        assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0


def test_scheduled_functions_send_failed_invocations_to_the_dead_letter_queue(synth: Synth) -> None:
    configs = synth.of_type("AWS::Lambda::EventInvokeConfig").values()
    dlq_id = synth.logical_id(synth.stack.schedules.dead_letter_queue)
    scheduled = {s.function for s in catalogue.SCHEDULES}
    assert len(configs) == len(scheduled)
    for config in configs:
        assert refs(config["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]) == {dlq_id}


def _alarms(synth: Synth, metric: str, dimension: str) -> list[tuple[Any, dict[str, Any]]]:
    """(the value of ``dimension``, the alarm's properties) of each alarm on ``metric``."""
    return [
        (next(d["Value"] for d in a["Properties"]["Dimensions"] if d["Name"] == dimension), a["Properties"])
        for a in synth.of_type("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == metric
    ]


def _alarms_incidents(synth: Synth, props: dict[str, Any]) -> None:
    incidents = synth.logical_id(synth.stack.topics.topics["incidents"])
    assert props["Threshold"] == 1
    assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert props["TreatMissingData"] == "notBreaching"
    assert [refs(a) for a in props["AlarmActions"]] == [{incidents}]


def test_each_sweep_alarms_the_incidents_topic_when_a_run_fails(synth: Synth) -> None:
    alarms = _alarms(synth, "RunsFailed", "sweep")
    assert sorted(sweep for sweep, _ in alarms) == sorted(s.key for s in catalogue.SCHEDULES)
    for _, props in alarms:
        assert props["Namespace"] == "Steward"
        assert {"Name": "service", "Value": "steward"} in props["Dimensions"]
        _alarms_incidents(synth, props)


def test_each_scheduled_function_alarms_when_it_fails_without_recording_it(synth: Synth) -> None:
    # A run killed by its timeout never records its end: Lambda's Errors metric is what shows it.
    alarms = _alarms(synth, "Errors", "FunctionName")
    scheduled = {synth.logical_id(synth.stack.functions.functions[s.function]) for s in catalogue.SCHEDULES}
    assert sorted(ref for name, _ in alarms for ref in refs(name)) == sorted(scheduled)
    for _, props in alarms:
        assert props["Namespace"] == "AWS/Lambda"
        _alarms_incidents(synth, props)


def test_a_webhook_called_while_its_secret_is_a_placeholder_alarms_the_incidents_topic(synth: Synth) -> None:
    [(service, props)] = _alarms(synth, "WebhookSecretNotConfigured", "service")
    assert (service, props["Namespace"], props["Period"]) == ("steward", "Steward", 300)
    _alarms_incidents(synth, props)
