"""Sending messages to a catalogue queue: ten to a ``SendMessageBatch`` call, the entries SQS refuses retried once.
A send either delivers every message or raises :class:`~shared.errors.Unavailable` (what was sent stays sent:
consumers treat a repeated message as done)."""

from __future__ import annotations

from collections.abc import Sequence

from botocore.exceptions import BotoCoreError, ClientError

from shared.errors import Unavailable
from shared.settings import get_settings
from shared.store import aws

BATCH_MAX = 10  # SQS's SendMessageBatch limit
ATTEMPTS = 2  # the first try, then the failed entries once more


def send(queue: str, bodies: Sequence[str], *, what: str) -> None:
    """Queue every body on catalogue queue ``queue``; ``what`` names them in the error (e.g. "rotation request")."""
    if not bodies:
        return
    url = get_settings().queue_url(queue)
    for start in range(0, len(bodies), BATCH_MAX):
        pending = {str(i): body for i, body in enumerate(bodies[start : start + BATCH_MAX], start)}
        for _ in range(ATTEMPTS):
            entries = [{"Id": key, "MessageBody": body} for key, body in pending.items()]
            try:
                answer = aws.sqs().send_message_batch(QueueUrl=url, Entries=entries)  # type: ignore[arg-type]
            except (ClientError, BotoCoreError):
                continue
            pending = {f["Id"]: pending[f["Id"]] for f in answer.get("Failed", []) if f["Id"] in pending}
            if not pending:
                break
        if pending:
            raise Unavailable(
                f"{len(pending)} {what} message(s) could not be queued; try again", queued=start
            )
