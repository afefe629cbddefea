"""CloudWatch alarms on the scheduled runs, both telling the incidents topic:

* **a run failed** (``RunsFailed``, emitted by ``shared.runs`` when an error stopped the run): one alarm per
  schedule of ``catalogue.SCHEDULES``. The next run resumes from the failed run's cursor; the alarm is for a person
  to look at why (``GET /runs/{sweep}``).
* **a scheduled function failed without a word** (Lambda's ``Errors``): a run killed by the function's timeout or
  its memory limit never gets to record its end, so its record stays ``running`` and no ``RunsFailed`` is emitted.
  One alarm per function that a schedule invokes.
* **a webhook is not configured** (``WebhookSecretNotConfigured``, emitted by the receiver): a platform calls a
  webhook whose secret is still the placeholder, so its deliveries are refused with 503.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct

from infrastructure.constructs.keys import Keys
from infrastructure.constructs.naming import construct_id
from shared import catalogue
from shared.observability import NAMESPACE, SERVICE

ALARM_TOPIC = "incidents"
PERIOD = Duration.hours(1)


class Alarms(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id_: str,
        *,
        topics: Mapping[str, sns.ITopic],
        functions: Mapping[str, lambda_.IFunction],
        keys: Keys,
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
        self._notify = actions.SnsAction(topics[ALARM_TOPIC])
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        self.function_alarms: dict[str, cloudwatch.Alarm] = {}
        for s in catalogue.SCHEDULES:
            failed = cloudwatch.Metric(
                namespace=NAMESPACE,
                metric_name="RunsFailed",
                dimensions_map={"service": SERVICE, "sweep": s.key},
                statistic="Sum",
                period=PERIOD,
            )
            self.alarms[s.key] = self._alarm(
                construct_id("RunFailed", s.key),
                failed,
                f"A run of the {s.key} sweep failed: GET /runs/{s.key} says why; the next run resumes where it "
                "stopped.",
            )
        for key in dict.fromkeys(s.function for s in catalogue.SCHEDULES):
            sweeps = ", ".join(s.key for s in catalogue.SCHEDULES if s.function == key)
            self.function_alarms[key] = self._alarm(
                construct_id("FunctionErrors", key),
                functions[key].metric_errors(period=PERIOD, statistic="Sum"),
                f"The {key} function failed (an error, its timeout or its memory limit), which runs the {sweeps} "
                "schedule: a run killed this way stays 'running' in GET /runs/{sweep}; its logs say why.",
            )

        self.webhook_not_configured = self._alarm(
            "WebhookSecretNotConfigured",
            cloudwatch.Metric(
                namespace=NAMESPACE,
                metric_name="WebhookSecretNotConfigured",
                dimensions_map={"service": SERVICE},
                statistic="Sum",
                period=Duration.minutes(5),
            ),
            "A platform is calling a webhook whose secret still holds the deployment's placeholder (or a value too "
            "short to be real): its deliveries get 503 and nothing is stored until the platform's value is put in "
            "(aws secretsmanager put-secret-value); the receiver's logs name the secret.",
        )

    def _alarm(self, id_: str, metric: cloudwatch.IMetric, description: str) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            id_,
            alarm_description=description,
            metric=metric,
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self._notify)
        return alarm
