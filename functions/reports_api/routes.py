from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel

from shared import api, reports_service, runs
from shared.domain import reports
from shared.domain.runs import Run

router = APIGatewayRouter()

# The month is checked by the domain (YYYY-MM, from 2000-01, not in the future), so the message says which rule.
MonthText = Annotated[str, Path(min_length=1, max_length=20, description="The month, YYYY-MM (UTC)")]
AccountId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="The registry account id")]
Sweep = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", description="The sweep (schedule) name")]
RunId = Annotated[
    str,
    Path(pattern=r"^[0-9]{8}T[0-9]{6,12}-[0-9a-f]{6,32}$", description="The run id (start time, then a tag)"),
]
Format = Annotated[Literal["json", "csv"], Query(description="json (default) or csv (a download)")]


def _doc(method: str, path: str, model: type[BaseModel]) -> dict[str, Any]:
    """The route's documentation, with the CSV download beside the JSON body."""
    doc = api.doc(method, path, model)
    doc["responses"][200]["content"]["text/csv"] = {"schema": {"type": "string"}}
    return doc


def _answer(report: reports.AccountReport | reports.DistrictReport, format: str) -> Response[str]:
    if format == "csv":
        return Response(
            status_code=200,
            content_type="text/csv; charset=utf-8",
            body=reports.to_csv(report),
            headers={"Content-Disposition": f'attachment; filename="{reports.csv_filename(report)}"'},
        )
    return Response(status_code=200, content_type="application/json", body=report.model_dump_json())


@router.get("/reports/<month>", **_doc("GET", "/reports/{month}", reports.DistrictReport))
def district(month: MonthText, format: Format = "json") -> Response[str]:
    return _answer(reports_service.district_report(month), format)


@router.get(
    "/reports/<month>/accounts/<account_id>",
    **_doc("GET", "/reports/{month}/accounts/{account_id}", reports.AccountReport),
)
def account(month: MonthText, account_id: AccountId, format: Format = "json") -> Response[str]:
    return _answer(reports_service.account_report(month, account_id), format)


@router.get("/runs/<sweep>", **api.doc("GET", "/runs/{sweep}", runs.RunList))
def runs_of(
    sweep: Sweep, limit: Annotated[int, Query(ge=1, le=100, description="Runs, newest first")] = 20
) -> runs.RunList:
    return runs.runs_of(sweep, limit)


@router.get("/runs/<sweep>/<run_id>", **api.doc("GET", "/runs/{sweep}/{run_id}", Run))
def run_of(sweep: Sweep, run_id: RunId) -> Run:
    return runs.run_of(sweep, run_id)
