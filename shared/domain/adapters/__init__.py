"""Platform adapters: raw webhook bytes in, normalized content events out.

One entry point, :func:`parse`. A delivery that is not what the platform sends at all (not JSON, not XML, the
wrong shape) raises :class:`~shared.errors.BadRequest` naming the problem. Otherwise every change in it gets one
outcome, in delivery order: a :class:`~shared.domain.content.ParsedEvent`, a
:class:`~shared.domain.content.SkippedEvent` with its reason (unknown kinds are skipped, never errors), or a
:class:`~shared.domain.content.ChangeError` for a change that cannot be read -- which spoils none of its
siblings. Pure code: no AWS, no network, no clock (the caller passes the receive time).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from shared.domain.adapters._common import load_json
from shared.domain.adapters.meta import parse_meta
from shared.domain.adapters.x import parse_x
from shared.domain.adapters.youtube import parse_youtube
from shared.domain.adapters.youtube_comments import parse_youtube_comments
from shared.domain.content import (
    ChangeError,
    ContentEvent,
    Outcome,
    ParsedEvent,
    Platform,
    SkippedEvent,
    SkipReason,
)
from shared.errors import BadRequest

# "meta" is the receiver's /webhooks/meta (Facebook and Instagram share it; `object` tells them apart);
# "youtube-poll" is a commentThreads.list page the YouTube poller kept (YouTube pushes no comments).
Source = Literal["meta", "facebook", "instagram", "x", "youtube", "youtube-poll"]
SOURCES: tuple[str, ...] = ("meta", "facebook", "instagram", "x", "youtube", "youtube-poll")


@dataclass(frozen=True)
class ParseResult:
    source: str
    received_at: datetime
    outcomes: tuple[Outcome, ...]

    @property
    def parsed(self) -> tuple[ParsedEvent, ...]:
        return tuple(o for o in self.outcomes if isinstance(o, ParsedEvent))

    @property
    def events(self) -> tuple[ContentEvent, ...]:
        return tuple(o.event for o in self.outcomes if isinstance(o, ParsedEvent))

    @property
    def skipped(self) -> tuple[SkippedEvent, ...]:
        return tuple(o for o in self.outcomes if isinstance(o, SkippedEvent))

    @property
    def errors(self) -> tuple[ChangeError, ...]:
        return tuple(o for o in self.outcomes if isinstance(o, ChangeError))

    def skip_counts(self) -> Counter[SkipReason]:
        return Counter(s.reason for s in self.skipped)


def parse(platform: str, raw: bytes, received_at: datetime) -> ParseResult:
    """Read one delivery's raw bytes (exactly as received) from ``platform`` (one of :data:`SOURCES`)."""
    if received_at.tzinfo is None:
        raise ValueError("received_at must be timezone-aware")
    received_at = received_at.astimezone(UTC)
    if platform in ("meta", "facebook", "instagram"):
        expected = None if platform == "meta" else Platform(platform)
        outcomes = parse_meta(load_json(raw, "Meta"), expected, received_at)
    elif platform == "x":
        outcomes = parse_x(load_json(raw, "X"), received_at)
    elif platform == "youtube":
        outcomes = parse_youtube(raw, received_at)
    elif platform == "youtube-poll":
        outcomes = parse_youtube_comments(load_json(raw, "YouTube comment page"), received_at)
    else:
        raise BadRequest(f"unknown platform {platform[:32]!r}; expected one of {', '.join(SOURCES)}")
    return ParseResult(source=platform, received_at=received_at, outcomes=tuple(outcomes))


__all__ = ["SOURCES", "ParseResult", "Source", "parse"]
