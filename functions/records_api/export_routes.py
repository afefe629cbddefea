"""Export packages of a public-records request: what a search finds, optionally redacted, as a verifiable
BagIt package built by a job; downloaded through a link valid for minutes, every download audited."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel, ConfigDict, Field

from functions.records_api.request_routes import BASE, RequestId
from shared import api, search_service
from shared import export_service as service
from shared.domain import redaction
from shared.domain.package import NOTE_MAX, Export
from shared.domain.redaction import NAMES_MAX
from shared.domain.search import KEYWORD_MAX, ItemFilter

router = APIGatewayRouter()

ExportId = Annotated[str, Path(pattern=r"^[0-9]{8}T[0-9]{6}-[0-9a-f]{8}$", description="The export id")]
EXPORTS = f"{BASE}/exports"
ONE = f"{EXPORTS}/{{export_id}}"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RedactBody(_Body):
    categories: list[str] = Field(
        min_length=1, max_length=4, description="Any of phone, email, address, name (name needs names)"
    )
    names: list[str] = Field(
        default_factory=list,
        max_length=NAMES_MAX,
        description="Names to redact, e.g. students whose parents opted out of directory information",
    )
    exemptions: dict[str, str] = Field(
        default_factory=dict, description="The exemption cited per category, replacing the default citation"
    )


class ExportBody(_Body):
    account: str | None = Field(default=None, max_length=300, description="platform:account_id")
    author: str | None = Field(default=None, max_length=300, description="platform:author_id")
    date_from: datetime | None = Field(default=None, description="Posted at or after")
    date_to: datetime | None = Field(default=None, description="Posted at or before")
    states: list[ItemFilter] = Field(
        default_factory=list, max_length=4, description="Only items in these states"
    )
    keyword: str | None = Field(default=None, max_length=KEYWORD_MAX, description="Matched on every version")
    redact: RedactBody | None = Field(
        default=None, description="Redact the package's copy (never the archive)"
    )
    note: str = Field(default="", max_length=NOTE_MAX)


@router.post("/requests/<request_id>/exports", **api.doc("POST", EXPORTS, Export, ok_status=202))
def create(request_id: RequestId, request: Annotated[ExportBody, Body()]) -> Response[str]:
    query = search_service.checked_query(
        account=request.account,
        author=request.author,
        date_from=request.date_from,
        date_to=request.date_to,
        states=tuple(request.states),
        keyword=request.keyword,
    )
    rules = (
        redaction.rules(request.redact.categories, request.redact.names, request.redact.exemptions)
        if request.redact
        else None
    )
    export = service.request_export(api.caller(router), request_id, query, rules, request.note)
    return Response(status_code=202, content_type="application/json", body=export.model_dump_json())


@router.get("/requests/<request_id>/exports", **api.doc("GET", EXPORTS, service.ExportList))
def listing(request_id: RequestId) -> service.ExportList:
    return service.listing(request_id)


@router.get("/requests/<request_id>/exports/<export_id>", **api.doc("GET", ONE, Export))
def get(request_id: RequestId, export_id: ExportId) -> Export:
    return service.get(request_id, export_id)


@router.post(
    "/requests/<request_id>/exports/<export_id>/download",
    **api.doc("POST", f"{ONE}/download", service.DownloadLink),
)
def download(request_id: RequestId, export_id: ExportId) -> service.DownloadLink:
    return service.download(api.caller(router), request_id, export_id)
