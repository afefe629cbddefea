"""Scheduled: capture new YouTube comments (YouTube sends no comment webhooks) by polling each active channel and
feeding the pages to the processor through intake, as webhooks are (see ``shared.youtube_polling``)."""

from typing import Any

from shared import handlers, youtube_polling


def poll(event: dict[str, Any]) -> dict[str, Any]:
    return youtube_polling.poll()


handler = handlers.scheduled(poll)
