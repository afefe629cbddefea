"""Speed-ups for moto's server in the local runtime: the same answers, without work that grows with the data.

moto is written for tests of a few items; the local runtime (and ``make load``, 10,000 deliveries) keeps
thousands. Three of moto's hot paths then cost time proportional to everything stored, on every call:

* **SQS** computes all of a queue's attributes, three of which walk every waiting message, on each SendMessage
  (for one flag) and for each message ReceiveMessage hands out (for the retention period): 30 walks of the
  backlog per batch of ten, and each message in a walk reads the clock through three datetime conversions.
  Here the retention period is read from the queue itself, and a walk reads the clock once.
* **DynamoDB Query** sorts every item of the table (not only the partition asked for) on each call, comparing
  ``DynamoType`` objects whose every comparison converts both values (five type checks each). Here the sort
  compares the plain key values, which orders them the same way (a table's key attributes have one type).
* ``DynamoType`` equality and order check five other types before a string's value; here strings and binaries
  are compared first.

Only the ``steward local`` moto process applies them (``python -m infrastructure.local.moto_server``); the
tests' in-process ``mock_aws`` runs moto unchanged. ``tests/integration/test_moto_speedups.py`` checks that
every patched function still exists in the pinned moto, and that queries, receives and comparisons answer the
same with and without the speed-ups.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from moto.core.utils import unix_time, unix_time_millis
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.sqs.models import Message, Queue, SQSBackend

_PLAIN = frozenset({"S", "B"})


_moto_cast_value = DynamoType.__dict__[
    "cast_value"
].fget  # moto's own (this module is imported before patching)


def cast_value(self: DynamoType) -> Any:
    """moto's ``DynamoType.cast_value``, with strings, binaries and numbers converted before any other type."""
    if self.type in _PLAIN:
        return self.value
    if self.type == "N":
        return Decimal(self.value)
    return _moto_cast_value(self)


def all_items(self: Table) -> list[Any]:
    """moto's ``Table.all_items``: every item, ordered by (hash key, range key), compared as plain values."""
    items: list[Any] = []
    for hash_set in self.items.values():
        if self.range_key_attr:
            items.extend(hash_set.values())
        else:
            items.append(hash_set)
    return sorted(
        items,
        key=lambda x: (
            (x.hash_key.cast_value, x.range_key.cast_value) if x.range_key else x.hash_key.cast_value
        ),
    )


# A message is visible when the time is past its visible_at and delayed until its delayed_until (moto's Message
# properties, which read the clock once per message: through three datetime conversions).
def _visible(message: Message, now: float) -> bool:
    return bool(now > message.visible_at)


def _delayed(message: Message, now: float) -> bool:
    return bool(now < message.delayed_until)


def messages(self: Queue) -> list[Message]:
    """moto's ``Queue.messages`` (visible and not delayed), with the clock read once."""
    now = unix_time_millis()
    return [m for m in self._messages if _visible(m, now) and not _delayed(m, now)]


def approximate_number_of_messages(self: Queue) -> int:
    return len(messages(self))


def approximate_number_of_messages_not_visible(self: Queue) -> int:
    now = unix_time_millis()
    return sum(1 for m in self._messages if not _visible(m, now))


def approximate_number_of_messages_delayed(self: Queue) -> int:
    now = unix_time_millis()
    return sum(1 for m in self._messages if _delayed(m, now))


def is_message_valid_based_on_retention_period(self: SQSBackend, queue_name: str, message: Message) -> bool:
    """moto's check, with the queue's retention period read from the queue rather than from all its attributes."""
    queue: Any = self.get_queue(queue_name)  # its attributes are set from the queue's, by name
    retention_period = int(queue.message_retention_period)
    return bool(retention_period + message.sent_timestamp / 1000 > unix_time())  # type: ignore[operator]


_PATCHES: tuple[tuple[type, str, Any], ...] = (
    (DynamoType, "cast_value", property(cast_value)),
    (Table, "all_items", all_items),
    (Queue, "messages", property(messages)),
    (Queue, "approximate_number_of_messages", property(approximate_number_of_messages)),
    (
        Queue,
        "approximate_number_of_messages_not_visible",
        property(approximate_number_of_messages_not_visible),
    ),
    (Queue, "approximate_number_of_messages_delayed", property(approximate_number_of_messages_delayed)),
    (SQSBackend, "is_message_valid_based_on_retention_period", is_message_valid_based_on_retention_period),
)


def _install() -> list[tuple[type, str, Any]]:
    """Install the speed-ups; what they replaced."""
    saved = [(owner, name, owner.__dict__[name]) for owner, name, _ in _PATCHES]
    for owner, name, replacement in _PATCHES:
        setattr(owner, name, replacement)
    return saved


def apply() -> None:
    """Install the speed-ups in this process for good (the local runtime's moto server)."""
    _install()


@contextmanager
def installed() -> Iterator[None]:
    """The speed-ups in force within the block, moto as it was after it (the tests compare the two)."""
    saved = _install()
    try:
        yield
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)
