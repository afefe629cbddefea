from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel, ConfigDict, Field

from shared import api
from shared import moderation_service as service
from shared.domain.moderation import Category

router = APIGatewayRouter()

CaseId = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="The case id (64 hex digits)")]


class DecisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: api.Reason = Field(
        min_length=3, max_length=1000, description="Why: recorded with the decision and audited"
    )


@router.get("/moderation/cases", **api.doc("GET", "/moderation/cases", service.CasePage))
def list_cases(
    state: Annotated[
        str | None,
        Query(description="Comma-separated states; default: open, actioned, action_failed, escalated"),
    ] = None,
    account: Annotated[str | None, Query(description="<platform>:<account id>, e.g. facebook:1234")] = None,
    category: Annotated[Category | None, Query(description="A rule-set category")] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="Cases per page")] = 25,
    cursor: Annotated[
        str | None, Query(max_length=512, description="next_cursor of the previous page")
    ] = None,
) -> service.CasePage:
    return service.list_cases(
        api.caller(router), state=state, account=account, category=category, limit=limit, cursor=cursor
    )


@router.get("/moderation/cases/<case_id>", **api.doc("GET", "/moderation/cases/{case_id}", service.CaseView))
def view_case(case_id: CaseId) -> service.CaseView:
    return service.view_case(case_id, api.caller(router))


@router.post(
    "/moderation/cases/<case_id>/confirm",
    **api.doc("POST", "/moderation/cases/{case_id}/confirm", service.DecisionResult),
)
def confirm(case_id: CaseId, request: Annotated[DecisionRequest, Body()]) -> service.DecisionResult:
    return service.decide(case_id, "confirm", request.reason, api.caller(router))


@router.post(
    "/moderation/cases/<case_id>/overturn",
    **api.doc("POST", "/moderation/cases/{case_id}/overturn", service.DecisionResult),
)
def overturn(case_id: CaseId, request: Annotated[DecisionRequest, Body()]) -> service.DecisionResult:
    return service.decide(case_id, "overturn", request.reason, api.caller(router))


@router.post(
    "/moderation/cases/<case_id>/escalate",
    **api.doc("POST", "/moderation/cases/{case_id}/escalate", service.DecisionResult),
)
def escalate(case_id: CaseId, request: Annotated[DecisionRequest, Body()]) -> service.DecisionResult:
    return service.decide(case_id, "escalate", request.reason, api.caller(router))


@router.get(
    "/moderation/reports/removals",
    **api.doc("GET", "/moderation/reports/removals", service.RemovalsReport),
)
def removals(
    first: Annotated[str, Query(alias="from", description="First month, YYYY-MM")],
    last: Annotated[str, Query(alias="to", description="Last month, YYYY-MM")],
) -> service.RemovalsReport:
    return service.removals(first, last)


@router.get("/moderation/ruleset", **api.doc("GET", "/moderation/ruleset", service.PublishedRuleSet))
def ruleset() -> service.PublishedRuleSet:
    return service.published_ruleset()
