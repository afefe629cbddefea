"""Shared helpers for the adapter tests: where the real deliveries live and how to read them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from shared.domain.adapters import ParseResult, parse
from shared.domain.content import ContentEvent
from tests.fixtures import WEBHOOKS

FIXTURES = WEBHOOKS
RECEIVED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PREFIX_SOURCE = {"fb": "meta", "ig": "meta", "x": "x", "yt": "youtube"}


def fixture_files() -> list[Path]:
    return sorted(p for p in FIXTURES.iterdir() if p.is_file() and p.suffix in (".json", ".xml"))


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def source_of(name: str) -> str:
    return PREFIX_SOURCE[name.split("_", 1)[0]]


def parse_fixture(name: str) -> ParseResult:
    return parse(source_of(name), raw(name), RECEIVED)


def only_event(name: str) -> ContentEvent:
    result = parse_fixture(name)
    assert not result.errors, result.errors
    assert not result.skipped, result.skipped
    (event,) = result.events
    return event
