"""Fault injection for the integration tests, through botocore's event hooks on the very clients the functions
use: the boto3 clients of :mod:`shared.store.aws` and the botocore clients PynamoDB keeps per model. No request
reaches moto while a fault answers for it; every other call does, unchanged.

A fault is scoped to one operation and, optionally, one resource (the table, bucket, queue or secret the call
names), lasts for ``times`` calls or until its ``with`` block ends, and counts the calls it failed.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.exceptions import BotoCoreError
from pynamodb.models import Model

from shared.store import dynamo

# The request parameters that name the resource a call is about.
_TARGET_PARAMS = ("TableName", "Bucket", "QueueUrl", "SecretId", "Name")
_ids = itertools.count()


@dataclass
class Fault:
    """What a fault did: ``calls`` is how many calls it answered with its error."""

    operation: str
    target: str | None
    times: int | None
    calls: int = 0

    def armed(self) -> bool:
        return self.times is None or self.calls < self.times


def table_client(model: type[Model]) -> Any:
    """The botocore client PynamoDB uses for ``model``'s table (bind the model first: binding drops it)."""
    return model._get_connection().connection.client


def transaction_client() -> Any:
    """The botocore client of :func:`shared.store.dynamo.connection` (TransactWriteItems)."""
    return dynamo.connection().client


def _named(params: dict[str, Any], target: str | None) -> bool:
    return target is None or any(target in str(params.get(p, "")) for p in _TARGET_PARAMS)


@contextmanager
def _hooked(client: Any, operation: str, on_call: Callable[[dict[str, Any]], Any]) -> Iterator[None]:
    """Register ``on_call(api params)`` as ``operation``'s before-call hook while inside."""
    service = client.meta.service_model.service_id.hyphenize()
    uid = f"steward-fault-{next(_ids)}"
    remember, call = f"before-parameter-build.{service}.{operation}", f"before-call.{service}.{operation}"

    def keep(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context[uid] = dict(params)

    def hook(context: dict[str, Any], **_: Any) -> Any:
        return on_call(context.get(uid, {}))

    client.meta.events.register(remember, keep, unique_id=f"{uid}-params")
    client.meta.events.register(call, hook, unique_id=uid)
    try:
        yield
    finally:
        client.meta.events.unregister(call, unique_id=uid)
        client.meta.events.unregister(remember, unique_id=f"{uid}-params")


@contextmanager
def aws_error(
    client: Any,
    operation: str,
    code: str,
    *,
    status: int = 500,
    message: str = "injected by the test",
    target: str | None = None,
    times: int | None = None,
    extra: dict[str, Any] | None = None,
) -> Iterator[Fault]:
    """``operation`` calls on ``client`` (naming ``target``, if given) answer the AWS error ``code`` with
    ``status`` (``extra`` goes into the parsed response, e.g. ``CancellationReasons``)."""
    fault = Fault(operation, target, times)

    def answer(params: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]] | None:
        if not (fault.armed() and _named(params, target)):
            return None
        fault.calls += 1
        body = {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
            **(extra or {}),
        }
        return AWSResponse("https://fault.invalid", status, HTTPHeaders(), None), body

    with _hooked(client, operation, answer):
        yield fault


@contextmanager
def aws_raises(
    client: Any, operation: str, error: BotoCoreError, *, target: str | None = None, times: int | None = None
) -> Iterator[Fault]:
    """``operation`` calls on ``client`` raise ``error`` (a timeout, a refused connection) before any request."""
    fault = Fault(operation, target, times)

    def answer(params: dict[str, Any]) -> None:
        if fault.armed() and _named(params, target):
            fault.calls += 1
            raise error

    with _hooked(client, operation, answer):
        yield fault


@contextmanager
def race(
    client: Any, operation: str, first: Callable[[], object], *, target: str | None = None
) -> Iterator[Fault]:
    """Another writer gets in first: ``first()`` runs once, just before the first ``operation`` call naming
    ``target``, which then goes on to moto and meets what ``first`` wrote (a real conditional-check failure)."""
    fault = Fault(operation, target, 1)

    def answer(params: dict[str, Any]) -> None:
        if fault.armed() and _named(params, target):
            fault.calls += 1
            first()

    with _hooked(client, operation, answer):
        yield fault
