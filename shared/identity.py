"""Who is calling: the identity the API's authorizer checked, as the services take it. Kept apart from
``shared.api`` (which loads the API framework) so that the queue and schedule functions, which import the
services, do not load that framework at cold start."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from shared.catalogue import Role


class Identity(BaseModel):
    """The caller, from the Cognito claims the authorizer checked."""

    model_config = ConfigDict(frozen=True)

    subject: str
    username: str
    email: str | None
    roles: frozenset[Role]

    @property
    def actor(self) -> str:
        """How the caller appears in the audit trail."""
        return f"user:{self.username}"
