"""Public-records requests: the log, the statutory clock, and the automatic hold on each open request's scope."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel, ConfigDict, Field

from functions.records_api.routes import ScopeRequest
from shared import api, search_service
from shared import requests_service as service
from shared.domain.requests import Closure, Jurisdiction, RequestStatus
from shared.domain.search import ItemFilter
from shared.errors import InvalidParameter

router = APIGatewayRouter()

RequestId = Annotated[str, Path(pattern=r"^[0-9]{8}-[0-9a-f]{8}$", description="The request id")]
BASE = "/requests/{request_id}"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewRequest(_Body):
    requester: str | None = Field(default=None, max_length=300, description="Who asked, if they said")
    received_on: date = Field(description="The day the request was received (the clock starts after it)")
    text: str = Field(min_length=1, max_length=10_000, description="The request, as received")
    jurisdiction: Jurisdiction
    scope: ScopeRequest | None = Field(
        default=None, description="What it covers: held while the request is open"
    )


class ScopeBody(_Body):
    scope: ScopeRequest


class Question(_Body):
    question: str = Field(min_length=3, max_length=4000)


class Answer(_Body):
    answer: str = Field(min_length=1, max_length=4000)


class ExtendBody(_Body):
    days: int = Field(ge=1, le=365)
    reason: api.Reason = Field(min_length=3, max_length=2000, description="The written reason (required)")


class InstallmentBody(_Body):
    provided_on: date
    description: str = Field(min_length=1, max_length=2000)
    items: int = Field(ge=0, le=10_000_000)


class WithheldEntry(_Body):
    item: str = Field(min_length=1, max_length=600)
    action: str = Field(pattern=r"^(redacted|withheld)$")
    exemption: str = Field(min_length=1, max_length=300, description="The exemption cited")
    explanation: str = Field(min_length=1, max_length=2000, description="How it applies")


class WithheldBody(_Body):
    entries: list[WithheldEntry] = Field(min_length=1, max_length=1000)


class CloseBody(_Body):
    closure: Closure
    closed_on: date
    reason: api.Reason = Field(
        default="", max_length=2000, description="Required for a denial or an abandonment"
    )


def _path(step: str) -> str:
    return f"{BASE}/{step}"


@router.post("/requests", **api.doc("POST", "/requests", service.RequestView, ok_status=201))
def create(request: Annotated[NewRequest, Body()]) -> Response[str]:
    view = service.create(
        api.caller(router),
        requester=request.requester,
        received_on=request.received_on,
        text=request.text,
        jurisdiction=str(request.jurisdiction),
        scope=request.scope.model_dump(mode="json") if request.scope else None,
    )
    return Response(status_code=201, content_type="application/json", body=view.model_dump_json())


@router.get("/requests", **api.doc("GET", "/requests", service.RequestList))
def listing(
    status: Annotated[RequestStatus | None, Query(description="Only requests in this status")] = None,
    overdue: Annotated[bool, Query(description="Only open requests past their due date")] = False,
) -> service.RequestList:
    return service.listing(status, overdue_only=overdue)


@router.get("/requests/<request_id>", **api.doc("GET", BASE, service.RequestView))
def get(request_id: RequestId) -> service.RequestView:
    return service.get(request_id)


@router.put("/requests/<request_id>/scope", **api.doc("PUT", _path("scope"), service.RequestView))
def scope(request_id: RequestId, request: Annotated[ScopeBody, Body()]) -> service.RequestView:
    return service.set_scope(request_id, api.caller(router), request.scope.model_dump(mode="json"))


@router.post(
    "/requests/<request_id>/acknowledge", **api.doc("POST", _path("acknowledge"), service.RequestView)
)
def acknowledge(request_id: RequestId) -> service.RequestView:
    return service.acknowledge(request_id, api.caller(router))


@router.post("/requests/<request_id>/start", **api.doc("POST", _path("start"), service.RequestView))
def start(request_id: RequestId) -> service.RequestView:
    return service.start(request_id, api.caller(router))


@router.post(
    "/requests/<request_id>/clarification", **api.doc("POST", _path("clarification"), service.RequestView)
)
def clarification(request_id: RequestId, request: Annotated[Question, Body()]) -> service.RequestView:
    return service.ask_clarification(request_id, api.caller(router), request.question)


@router.post("/requests/<request_id>/clarified", **api.doc("POST", _path("clarified"), service.RequestView))
def clarified(request_id: RequestId, request: Annotated[Answer, Body()]) -> service.RequestView:
    return service.clarified(request_id, api.caller(router), request.answer)


@router.post("/requests/<request_id>/extend", **api.doc("POST", _path("extend"), service.RequestView))
def extend(request_id: RequestId, request: Annotated[ExtendBody, Body()]) -> service.RequestView:
    return service.extend(request_id, api.caller(router), request.days, request.reason)


@router.post(
    "/requests/<request_id>/installments", **api.doc("POST", _path("installments"), service.RequestView)
)
def installment(request_id: RequestId, request: Annotated[InstallmentBody, Body()]) -> service.RequestView:
    return service.installment(
        request_id, api.caller(router), request.provided_on, request.description, request.items
    )


@router.post("/requests/<request_id>/withheld", **api.doc("POST", _path("withheld"), service.RequestView))
def withheld(request_id: RequestId, request: Annotated[WithheldBody, Body()]) -> service.RequestView:
    return service.withheld(request_id, api.caller(router), [e.model_dump() for e in request.entries])


@router.post("/requests/<request_id>/close", **api.doc("POST", _path("close"), service.RequestView))
def close(request_id: RequestId, request: Annotated[CloseBody, Body()]) -> service.RequestView:
    return service.close(
        request_id, api.caller(router), str(request.closure), request.closed_on, request.reason
    )


@router.get("/search", **api.doc("GET", "/search", search_service.SearchPage))
def search(
    account: Annotated[str | None, Query(max_length=300, description="platform:account_id")] = None,
    author: Annotated[str | None, Query(max_length=300, description="platform:author_id")] = None,
    date_from: Annotated[datetime | None, Query(description="Posted at or after")] = None,
    date_to: Annotated[datetime | None, Query(description="Posted at or before")] = None,
    states: Annotated[
        str | None, Query(max_length=100, description="Comma-separated: visible, hidden, removed, edited")
    ] = None,
    q: Annotated[str | None, Query(max_length=200, description="A keyword, matched on every version")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: Annotated[
        str | None, Query(max_length=1024, description="next_cursor of the previous page")
    ] = None,
    context: Annotated[bool, Query(description="Include each hit's thread")] = True,
) -> search_service.SearchPage:
    wanted: list[ItemFilter] = []
    for part in (states or "").split(","):
        if part.strip():
            try:
                wanted.append(ItemFilter(part.strip()))
            except ValueError:
                raise InvalidParameter(
                    f"states: {part.strip()!r} is not visible, hidden, removed or edited"
                ) from None
    return search_service.search(
        account=account,
        author=author,
        date_from=date_from,
        date_to=date_to,
        states=tuple(wanted),
        keyword=q,
        limit=limit,
        cursor=cursor,
        context=context,
    )
