"""EventBridge rules from ``catalogue.SCHEDULES``, each invoking its function.

Two failure paths, one dead-letter queue: EventBridge retries a failed *delivery* and then sends the event to the
queue; Lambda retries a failed *invocation* (the function raised) and then sends it to the same queue as its
on-failure destination. An operator reads one queue to see every schedule run that did not happen.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from constructs import Construct

from infrastructure.constructs import nag
from infrastructure.constructs.keys import Keys
from infrastructure.constructs.naming import construct_id
from infrastructure.constructs.queues import DLQ_RETENTION, encrypted_queue
from shared import catalogue

DELIVERY_RETRIES = 4
INVOCATION_RETRIES = 2
# A scheduled run older than this is stale: the next run supersedes it.
MAX_EVENT_AGE = Duration.hours(1)


class Schedules(Construct):
    def __init__(
        self, scope: Construct, construct_id_: str, *, functions: Mapping[str, lambda_.Function], keys: Keys
    ) -> None:
        super().__init__(scope, construct_id_)
        self.dead_letter_queue = encrypted_queue(
            self, "DeadLetterQueue", keys.key, retention_period=DLQ_RETENTION
        )
        nag.acknowledge(
            self.dead_letter_queue,
            "AwsSolutions-SQS3",
            "This queue is itself the dead-letter queue of the scheduled rules' targets and the on-failure "
            "destination of the scheduled functions; a dead-letter queue of a dead-letter queue would only hide "
            "failures one level deeper.",
        )
        # CloudFormation names the rules "<stack name>-<logical id>-<suffix>".
        stack = Stack.of(self)
        keys.allow_service_queue_delivery(
            "events.amazonaws.com",
            stack.format_arn(service="events", resource="rule", resource_name=f"{stack.stack_name}-*"),
        )
        self.rules: dict[str, events.Rule] = {}
        configured: set[str] = set()
        for s in catalogue.SCHEDULES:
            if s.function not in functions:
                raise ValueError(f"schedule {s.key!r} names unknown function {s.function!r}")
            function = functions[s.function]
            rule = events.Rule(
                self,
                construct_id("Rule", s.key),
                description=s.description or f"Steward schedule {s.key}",
                schedule=events.Schedule.expression(s.expression),
                targets=[
                    targets.LambdaFunction(
                        function,
                        dead_letter_queue=self.dead_letter_queue,
                        retry_attempts=DELIVERY_RETRIES,
                        max_event_age=MAX_EVENT_AGE,
                    )
                ],
            )
            self.rules[s.key] = rule
            if s.function not in configured:
                configured.add(s.function)
                function.configure_async_invoke(
                    on_failure=destinations.SqsDestination(self.dead_letter_queue),
                    retry_attempts=INVOCATION_RETRIES,
                    max_event_age=MAX_EVENT_AGE,
                )
