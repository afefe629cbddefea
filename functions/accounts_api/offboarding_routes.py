"""``POST /offboardings``: offboard a staff member (:mod:`shared.offboarding_service`)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel, ConfigDict, Field

from shared import api
from shared import offboarding_service as service

router = APIGatewayRouter()


class OffboardingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=254, description="The staff member's district email address")
    reason: api.Reason = Field(
        min_length=service.REASON_MIN,
        max_length=service.REASON_MAX,
        description="Why (e.g. the HR ticket): recorded on every account changed and audited",
    )


@router.post("/offboardings", **api.doc("POST", "/offboardings", service.OffboardingReport, ok_status=200))
def offboard(request: Annotated[OffboardingRequest, Body()]) -> service.OffboardingReport:
    return service.offboard(api.caller(router), request.email, request.reason)
