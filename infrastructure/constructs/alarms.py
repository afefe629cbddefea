"""CloudWatch alarms on the scheduled runs: a recorded sweep (``catalogue.Schedule.recorded``) whose run failed
emits ``RunsFailed`` (``shared.runs``), and its alarm tells the incidents topic. The next run resumes from the
failed run's cursor; the alarm is for a person to look at why."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from infrastructure.constructs.keys import Keys
from infrastructure.constructs.naming import construct_id
from shared import catalogue
from shared.observability import NAMESPACE, SERVICE

ALARM_TOPIC = "incidents"


class Alarms(Construct):
    def __init__(
        self, scope: Construct, construct_id_: str, *, topics: Mapping[str, sns.ITopic], keys: Keys
    ) -> None:
        super().__init__(scope, construct_id_)
        # The topic is encrypted with the data key: CloudWatch needs it to publish, only for this account's alarms.
        stack = Stack.of(self)
        keys.allow_service_queue_delivery(
            "cloudwatch.amazonaws.com",
            stack.format_arn(
                service="cloudwatch",
                resource="alarm",
                resource_name="*",
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            ),
        )
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        notify = actions.SnsAction(topics[ALARM_TOPIC])
        for s in catalogue.SCHEDULES:
            if not s.recorded:
                continue
            metric = cloudwatch.Metric(
                namespace=NAMESPACE,
                metric_name="RunsFailed",
                dimensions_map={"service": SERVICE, "sweep": s.key},
                statistic="Sum",
                period=Duration.hours(1),
            )
            alarm = cloudwatch.Alarm(
                self,
                construct_id("RunFailed", s.key),
                alarm_description=f"A run of the {s.key} sweep failed: GET /runs/{s.key} says why; the next run "
                "resumes where it stopped.",
                metric=metric,
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(notify)
            self.alarms[s.key] = alarm
