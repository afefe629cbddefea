"""Abandoned accounts: the sweep's thresholds, the confirmation of a proposed retirement, and each account's link
to its platform id (which the sweeps and reports need to find its posts)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel, ConfigDict, Field

from functions.accounts_api.routes import AccountId, ReasonRequest
from shared import abandonment_service as sweep
from shared import accounts_service as service
from shared import api
from shared.domain.abandonment import SweepConfig

router = APIGatewayRouter()
THRESHOLDS = "/sweeps/abandoned-accounts/thresholds"


class PlatformIdRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform_id: str = Field(
        min_length=1,
        max_length=128,
        description="The page, business account, user or channel id on the platform",
    )


@router.put(
    "/accounts/<account_id>/platform-id",
    **api.doc("PUT", "/accounts/{account_id}/platform-id", service.AccountView),
)
def link(account_id: AccountId, request: Annotated[PlatformIdRequest, Body()]) -> service.AccountView:
    return service.link_platform(account_id, api.caller(router), request.platform_id)


@router.post(
    "/accounts/<account_id>/retirement",
    **api.doc("POST", "/accounts/{account_id}/retirement", service.AccountView),
)
def retirement(account_id: AccountId, request: Annotated[ReasonRequest, Body()]) -> service.AccountView:
    return sweep.retire(account_id, api.caller(router), request.reason)


@router.get(THRESHOLDS, **api.doc("GET", THRESHOLDS, SweepConfig))
def thresholds() -> SweepConfig:
    return sweep.config()


@router.put(THRESHOLDS, **api.doc("PUT", THRESHOLDS, SweepConfig))
def set_thresholds(request: Annotated[dict[str, Any], Body()]) -> SweepConfig:
    return sweep.set_config(api.caller(router), request)
