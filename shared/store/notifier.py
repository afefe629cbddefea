"""Critical-incident notices to the communications director over SNS (catalogue topic ``incidents``).

The message is built by the domain (:func:`shared.domain.cases.incident_notice`), which leaves out the text of
sensitive matches; this module only publishes it.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shared.errors import Unavailable
from shared.settings import get_settings
from shared.store import aws

TOPIC = "incidents"


def publish(subject: str, message: dict[str, Any], *, topic: str = TOPIC) -> str:
    """Publish one notice; returns the SNS message id. Raises Unavailable when SNS refuses or cannot be reached."""
    arn = get_settings().topic_arn(topic)
    try:
        answer = aws.sns().publish(
            TopicArn=arn,
            Subject=subject,
            Message=json.dumps(message, sort_keys=True, ensure_ascii=False),
            MessageAttributes={
                "kind": {"DataType": "String", "StringValue": str(message.get("kind", "notice"))},
                "category": {"DataType": "String", "StringValue": str(message.get("category", "none"))},
            },
        )
    except (ClientError, BotoCoreError) as exc:
        raise Unavailable(f"the {topic} notice could not be published") from exc
    return str(answer["MessageId"])
