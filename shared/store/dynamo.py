"""PynamoDB models bound to their tables at run time.

A model's table name comes from the settings (the catalogue names the variable); ``bind`` points the model at
that table and at the endpoint override, and drops any connection cached on the class so tests and the local
runtime never talk to a stale table.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TypeVar

from pynamodb.connection import Connection
from pynamodb.models import Model

from shared.settings import get_settings

M = TypeVar("M", bound=type[Model])

_bound: dict[type[Model], str] = {}


def bind(model: M, table_key: str) -> M:
    """Point ``model`` at the table the catalogue calls ``table_key`` (once per settings)."""
    if model in _bound:
        return model
    settings = get_settings()
    model.Meta.table_name = settings.table_name(table_key)
    model.Meta.region = settings.region
    model.Meta.host = settings.endpoint
    model.Meta.connect_timeout_seconds = 3
    model.Meta.read_timeout_seconds = 10
    model.Meta.max_retry_attempts = 3
    model._connection = None
    _bound[model] = table_key
    return model


def connection() -> Connection:
    """A low-level connection for transactions across models (made once: a new one costs a new botocore client)."""
    return _connection()


@lru_cache(maxsize=1)
def _connection() -> Connection:
    settings = get_settings()
    return Connection(region=settings.region, host=settings.endpoint)


def reset() -> None:
    for model in _bound:
        model._connection = None
    _bound.clear()
    _connection.cache_clear()
