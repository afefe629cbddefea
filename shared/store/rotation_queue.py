"""The ``rotations`` queue (catalogue): credential rotations handed to the rotation function.

A message is a JSON array of :class:`~shared.domain.credentials.RotationRequest` bodies (up to
:data:`PER_MESSAGE`), sent ten messages to a ``SendMessageBatch`` call.
The worker treats a request it has already acted on as done, so sending one twice is harmless; losing one is not,
hence a send either delivers every request or raises :class:`~shared.errors.Unavailable`.
"""

from __future__ import annotations

from collections.abc import Sequence

from botocore.exceptions import BotoCoreError, ClientError

from shared.domain.credentials import RotationRequest
from shared.errors import Unavailable
from shared.settings import get_settings
from shared.store import aws

ROTATIONS = "rotations"
BATCH_MAX = 10  # SQS's SendMessageBatch limit
# Requests per message (about 300 bytes each, far under SQS's 256 KiB): an offboarding of 200 accounts is 8
# messages and one call. The worker handles a message's requests one by one; a retried message repeats only
# what is not done yet (handling a request twice changes nothing).
PER_MESSAGE = 25
ATTEMPTS = 2  # the first try, then the failed entries once more


def send(requests: Sequence[RotationRequest]) -> None:
    """Queue every request, up to :data:`PER_MESSAGE` in one message and ten messages to a call; raises
    Unavailable if SQS fails or still refuses some entries after one retry."""
    if not requests:
        return
    url = get_settings().queue_url(ROTATIONS)
    bodies = [messages_body(requests[i : i + PER_MESSAGE]) for i in range(0, len(requests), PER_MESSAGE)]
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
                f"{len(pending)} message(s) of credential rotation requests could not be queued; try again",
                queued=min(len(requests), start * PER_MESSAGE),
            )


def messages_body(requests: Sequence[RotationRequest]) -> str:
    """One message: a JSON array of requests."""
    return "[" + ",".join(r.body() for r in requests) + "]"
