"""The ``rotations`` queue (catalogue): credential rotations handed to the rotation function.

Messages are :class:`~shared.domain.credentials.RotationRequest` bodies, sent ten to a ``SendMessageBatch`` call.
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
ATTEMPTS = 2  # the first try, then the failed entries once more


def send(requests: Sequence[RotationRequest]) -> None:
    """Queue every request; raises Unavailable if SQS fails or still refuses some entries after one retry."""
    if not requests:
        return
    url = get_settings().queue_url(ROTATIONS)
    for start in range(0, len(requests), BATCH_MAX):
        pending = {str(i): r.body() for i, r in enumerate(requests[start : start + BATCH_MAX], start)}
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
                f"{len(pending)} credential rotation request(s) could not be queued; try again",
                queued=start,
            )
