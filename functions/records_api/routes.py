from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel, ConfigDict, Field

from shared import api
from shared import records_service as service
from shared.domain.retention import Batch, BatchState, Disposition, Schedule, Trigger

router = APIGatewayRouter()

Dan = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9.\-]{1,39}$", description="The series id (DAN)")]
PlatformName = Annotated[str, Path(pattern=r"^(facebook|instagram|x|youtube)$", description="The platform")]
PlatformId = Annotated[
    str, Path(pattern=r"^[A-Za-z0-9_.\-]{1,128}$", description="The account's platform id")
]
ItemId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.\-]{1,256}$", description="The item's platform id")]
HoldId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="The hold id")]
BatchId = Annotated[str, Path(pattern=r"^[0-9]{8}T[0-9]{6}-[0-9a-f]{12}$", description="The batch id")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SeriesRequest(_Body):
    title: str = Field(min_length=1, max_length=300)
    description: str = Field(min_length=1, max_length=4000)
    retention_years: int = Field(default=0, ge=0, le=200)
    retention_months: int = Field(default=0, ge=0, le=2400)
    retention_days: int = Field(default=0, ge=0, le=73000)
    trigger: Trigger
    disposition: Disposition
    archival: bool
    essential: bool = False
    jurisdiction: str = Field(min_length=2, max_length=20)
    citation: str = Field(default="", max_length=500)
    note: api.Reason = Field(
        default="", max_length=1000, description="Why the schedule changes: recorded and audited"
    )


class DefaultRequest(_Body):
    dan: str = Field(min_length=2, max_length=40)
    note: api.Reason = Field(default="", max_length=1000)


class AssignRequest(_Body):
    dan: str = Field(min_length=2, max_length=40)
    note: api.Reason = Field(default="", max_length=1000)


class ScopeRequest(_Body):
    accounts: list[str] = Field(default_factory=list, max_length=500, description="platform:account_id")
    authors: list[str] = Field(default_factory=list, max_length=500, description="platform:author_id")
    item_ids: list[str] = Field(
        default_factory=list, max_length=500, description="platform:account_id:item_id"
    )
    date_from: datetime | None = Field(default=None, description="Items posted at or after (inclusive)")
    date_to: datetime | None = Field(default=None, description="Items posted at or before (inclusive)")


class HoldRequest(_Body):
    matter: str = Field(min_length=1, max_length=200, description="The matter the hold is for")
    reason: api.Reason = Field(min_length=3, max_length=1000)
    scope: ScopeRequest


class ReasonRequest(_Body):
    reason: api.Reason = Field(min_length=3, max_length=1000, description="Why: recorded and audited")


class NoteRequest(_Body):
    note: api.Reason = Field(default="", max_length=1000)


class HoldList(BaseModel):
    holds: list[service.HoldView]


class BatchList(BaseModel):
    batches: list[Batch]


class SweepResult(BaseModel):
    items_read: int
    batches: list[str]


class DestructionLog(BaseModel):
    entries: list[dict[str, Any]]


@router.get("/retention/schedule", **api.doc("GET", "/retention/schedule", Schedule))
def get_schedule() -> Schedule:
    return service.schedule()


@router.get(
    "/retention/schedule/versions/<version>",
    **api.doc("GET", "/retention/schedule/versions/{version}", Schedule),
)
def get_schedule_version(version: Annotated[int, Path(ge=1, le=10_000_000)]) -> Schedule:
    return service.schedule_version(version)


@router.put("/retention/series/<dan>", **api.doc("PUT", "/retention/series/{dan}", Schedule))
def put_series(dan: Dan, request: Annotated[SeriesRequest, Body()]) -> Schedule:
    data = request.model_dump(mode="json", exclude={"note"})
    return service.put_series(api.caller(router), dan, data, request.note)


@router.put("/retention/default", **api.doc("PUT", "/retention/default", Schedule))
def put_default(request: Annotated[DefaultRequest, Body()]) -> Schedule:
    return service.set_default(api.caller(router), request.dan, request.note)


@router.put(
    "/retention/assignments/<platform>/<account_id>",
    **api.doc("PUT", "/retention/assignments/{platform}/{account_id}", Schedule),
)
def put_assignment(
    platform: PlatformName, account_id: PlatformId, request: Annotated[AssignRequest, Body()]
) -> Schedule:
    return service.assign(api.caller(router), platform, account_id, request.dan, request.note)


@router.get(
    "/content/<platform>/<account_id>/<item_id>/retention",
    **api.doc("GET", "/content/{platform}/{account_id}/{item_id}/retention", service.RetentionView),
)
def item_retention(platform: PlatformName, account_id: PlatformId, item_id: ItemId) -> service.RetentionView:
    return service.item_retention(platform, account_id, item_id)


@router.post("/holds", **api.doc("POST", "/holds", service.HoldView, ok_status=202))
def place_hold(request: Annotated[HoldRequest, Body()]) -> Response[str]:
    view = service.place_hold(
        api.caller(router), request.matter, request.reason, request.scope.model_dump(mode="json")
    )
    return Response(status_code=202, content_type="application/json", body=view.model_dump_json())


@router.get("/holds", **api.doc("GET", "/holds", HoldList))
def list_holds() -> HoldList:
    return HoldList(holds=service.holds())


@router.get("/holds/<hold_id>", **api.doc("GET", "/holds/{hold_id}", service.HoldView))
def get_hold(hold_id: HoldId) -> service.HoldView:
    return service.get_hold(hold_id)


@router.post("/holds/<hold_id>/release", **api.doc("POST", "/holds/{hold_id}/release", service.HoldView))
def release_hold(hold_id: HoldId, request: Annotated[ReasonRequest, Body()]) -> service.HoldView:
    return service.release_hold(api.caller(router), hold_id, request.reason)


@router.post("/disposition/sweep", **api.doc("POST", "/disposition/sweep", SweepResult))
def sweep() -> SweepResult:
    return SweepResult.model_validate(service.sweep())


@router.get("/disposition/batches", **api.doc("GET", "/disposition/batches", BatchList))
def list_batches(
    state: Annotated[BatchState | None, Query(description="Only batches in this state")] = None,
) -> BatchList:
    return BatchList(batches=service.batches(state))


@router.get("/disposition/batches/<batch_id>", **api.doc("GET", "/disposition/batches/{batch_id}", Batch))
def get_batch(batch_id: BatchId) -> Batch:
    return service.get_batch(batch_id)


@router.post(
    "/disposition/batches/<batch_id>/approve",
    **api.doc("POST", "/disposition/batches/{batch_id}/approve", Batch),
)
def approve(batch_id: BatchId, request: Annotated[NoteRequest | None, Body()] = None) -> Batch:
    return service.approve(api.caller(router), batch_id, request.note if request else "")


@router.post(
    "/disposition/batches/<batch_id>/reject",
    **api.doc("POST", "/disposition/batches/{batch_id}/reject", Batch),
)
def reject(batch_id: BatchId, request: Annotated[ReasonRequest, Body()]) -> Batch:
    return service.reject(api.caller(router), batch_id, request.reason)


@router.get("/disposition/log", **api.doc("GET", "/disposition/log", DestructionLog))
def destruction_log(
    limit: Annotated[int, Query(ge=1, le=500, description="Entries, newest first")] = 100,
) -> DestructionLog:
    return DestructionLog(entries=service.destruction_log(limit))
