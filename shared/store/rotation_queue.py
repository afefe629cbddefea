"""The ``rotations`` queue (catalogue): credential rotations handed to the rotation function.

A message is a JSON array of :class:`~shared.domain.credentials.RotationRequest` bodies (up to
:data:`PER_MESSAGE`), sent through :func:`shared.store.queues.send`.
The worker treats a request it has already acted on as done, so sending one twice is harmless; losing one is not,
hence a send either delivers every request or raises :class:`~shared.errors.Unavailable`.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.domain.credentials import RotationRequest
from shared.store import queues

ROTATIONS = "rotations"
# Requests per message (about 300 bytes each, far under SQS's 256 KiB): an offboarding of 200 accounts is 8
# messages and one call. The worker handles a message's requests one by one; a retried message repeats only
# what is not done yet (handling a request twice changes nothing).
PER_MESSAGE = 25


def send(requests: Sequence[RotationRequest]) -> None:
    """Queue every request, up to :data:`PER_MESSAGE` in one message; raises Unavailable if SQS fails."""
    bodies = [messages_body(requests[i : i + PER_MESSAGE]) for i in range(0, len(requests), PER_MESSAGE)]
    queues.send(ROTATIONS, bodies, what="credential rotation request")


def messages_body(requests: Sequence[RotationRequest]) -> str:
    """One message: a JSON array of requests."""
    return "[" + ",".join(r.body() for r in requests) + "]"
