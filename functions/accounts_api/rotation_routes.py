"""Credential rotation routes: start, the assisted password flow (hand over, confirm), cancel, resume, and
compromise reports. The rules are in :mod:`shared.rotation_service` and :mod:`shared.domain.credentials`."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel, Field

from functions.accounts_api.routes import AccountId, ReasonRequest, _Body
from shared import api
from shared import rotation_service as rotation
from shared import vault_service as vault
from shared.domain.credentials import CredentialKind

router = APIGatewayRouter()

VersionId = Annotated[
    str,
    Path(
        pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
        description="The rotation's pending version id (a UUID)",
    ),
]
ROTATION = "/accounts/{account_id}/credential/rotations/{version_id}"


class RotationReason(ReasonRequest):
    """A reason within the credential domain's limit (500 characters, not the account changes' 1000)."""

    reason: str = Field(min_length=3, max_length=500, description="Why: recorded, audited and notified")


class StartRequest(RotationReason):
    kind: CredentialKind = Field(description="password (assisted: hand over, confirm) or token (automatic)")


class SetConfirmation(_Body):
    note: str = Field(default="", max_length=500, description="Recorded with the confirmation")


class HandOverView(BaseModel):
    account_id: str
    version_id: str
    login_email: str
    password: str = Field(
        description="The new password, returned this once: set it on the platform, then confirm"
    )
    handed_over_at: str


def _path(suffix: str) -> str:
    return f"{ROTATION}/{suffix}"


@router.post(
    "/accounts/<account_id>/credential/rotations",
    **api.doc("POST", "/accounts/{account_id}/credential/rotations", vault.CredentialView),
)
def start(account_id: AccountId, request: Annotated[StartRequest, Body()]) -> vault.CredentialView:
    return rotation.start(account_id, api.caller(router), request.kind, request.reason)


@router.post(
    "/accounts/<account_id>/credential/rotations/<version_id>/handover",
    **api.doc("POST", _path("handover"), HandOverView),
)
def hand_over(account_id: AccountId, version_id: VersionId) -> HandOverView:
    given: dict[str, Any] = rotation.hand_over(account_id, version_id, api.caller(router))
    return HandOverView.model_validate(given)


@router.post(
    "/accounts/<account_id>/credential/rotations/<version_id>/confirm",
    **api.doc("POST", _path("confirm"), vault.CredentialView),
)
def confirm(
    account_id: AccountId, version_id: VersionId, request: Annotated[SetConfirmation | None, Body()] = None
) -> vault.CredentialView:
    return rotation.confirm(account_id, version_id, api.caller(router), request.note if request else "")


@router.post(
    "/accounts/<account_id>/credential/rotations/<version_id>/cancel",
    **api.doc("POST", _path("cancel"), vault.CredentialView),
)
def cancel(
    account_id: AccountId, version_id: VersionId, request: Annotated[RotationReason, Body()]
) -> vault.CredentialView:
    return rotation.cancel(account_id, version_id, api.caller(router), request.reason)


@router.post(
    "/accounts/<account_id>/credential/rotations/<version_id>/resume",
    **api.doc("POST", _path("resume"), vault.CredentialView),
)
def resume(account_id: AccountId, version_id: VersionId) -> vault.CredentialView:
    return rotation.resume(account_id, version_id, api.caller(router))


@router.post(
    "/accounts/<account_id>/credential/compromise",
    **api.doc("POST", "/accounts/{account_id}/credential/compromise", vault.CredentialView),
)
def compromise(account_id: AccountId, request: Annotated[RotationReason, Body()]) -> vault.CredentialView:
    return rotation.report_compromise(account_id, api.caller(router), request.reason)
