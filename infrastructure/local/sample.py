"""Sample data for ``make run``: what a newly set-up district would have on its first day."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from infrastructure.local.provision import Provisioned
from shared import audit
from shared.store import intake

ACTOR = "system:local-setup"
DELIVERIES = Path(__file__).resolve().parents[2] / "events" / "deliveries"
# Comments already on the sample accounts, queued as if the platforms had just delivered them (the processor
# archives and indexes them as soon as the runtime polls the queue). The demo adds its own.
SAMPLE_DELIVERIES = {
    "facebook_comment_clean.json": "meta",
    "instagram_comment.json": "meta",
    "x_reply.json": "x",
    "youtube_upload.xml": "youtube",
}


def seed(provisioned: Provisioned) -> dict[str, int]:
    """Record the seeded users in the audit trail and anchor it, and queue the sample deliveries."""
    for role, username in sorted(provisioned.users.items()):
        audit.append(
            ACTOR, "user.provisioned", f"user:{username}", {"role": role, "pool": provisioned.user_pool_id}
        )
    audit.anchor(ACTOR, "initial anchor of the sample data")
    for name, platform in SAMPLE_DELIVERIES.items():
        content_type = "application/atom+xml" if name.endswith(".xml") else "application/json"
        body = (DELIVERIES / name).read_bytes()
        intake.enqueue(intake.store(platform, body, datetime.now(UTC), "sample-data", content_type))
    return {"audit_entries": len(provisioned.users) + 1, "anchors": 1, "deliveries": len(SAMPLE_DELIVERIES)}
