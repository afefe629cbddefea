"""Sample data for ``make run``: what a newly set-up district would have on its first day."""

from __future__ import annotations

from infrastructure.local.provision import Provisioned
from shared import audit

ACTOR = "system:local-setup"


def seed(provisioned: Provisioned) -> dict[str, int]:
    """Record the seeded users in the audit trail and anchor it, so verify has something to prove."""
    for role, username in sorted(provisioned.users.items()):
        audit.append(
            ACTOR, "user.provisioned", f"user:{username}", {"role": role, "pool": provisioned.user_pool_id}
        )
    audit.anchor(ACTOR, "initial anchor of the sample data")
    return {"audit_entries": len(provisioned.users) + 1, "anchors": 1}
