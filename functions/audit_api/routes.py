from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel, ConfigDict, Field

from shared import api, audit
from shared.domain.anchor import AnchorDocument

router = APIGatewayRouter()


class AnchorRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: api.Reason = Field(min_length=3, max_length=500, description="Why an anchor is wanted now")


class AnchorSummary(BaseModel):
    key: str
    anchored_at: str
    reason: str
    previous: str | None
    chains: int
    versions: int
    hidden: bool


class AnchorList(BaseModel):
    anchors: list[AnchorSummary]
    total: int


@router.get("/audit/verify", **api.doc("GET", "/audit/verify", audit.VerifyReport))
def verify_all() -> audit.VerifyReport:
    return audit.verify()


@router.get("/audit/chains/<chain>", **api.doc("GET", "/audit/chains/{chain}", audit.VerifyReport))
def verify_chain(chain: Annotated[int, Path(ge=0, le=63, description="Chain number")]) -> audit.VerifyReport:
    return audit.verify(chain)


@router.get("/audit/anchors", **api.doc("GET", "/audit/anchors", AnchorList))
def list_anchors(
    limit: Annotated[int, Query(ge=1, le=500, description="How many of the newest anchors")] = 50,
) -> AnchorList:
    stored = audit.anchors().all()
    summaries = []
    for a in stored[-limit:][::-1]:
        try:
            doc = AnchorDocument.model_validate_json(a.original)
        except ValueError:
            # Anything written under the anchor prefix is listed; what is no anchor is shown as such (verify
            # reports it too), rather than failing the whole list.
            summaries.append(
                AnchorSummary(
                    key=a.key,
                    anchored_at="",
                    reason="(unreadable: not an anchor document)",
                    previous=None,
                    chains=0,
                    versions=a.versions,
                    hidden=a.hidden,
                )
            )
            continue
        summaries.append(
            AnchorSummary(
                key=a.key,
                anchored_at=doc.anchored_at,
                reason=doc.reason,
                previous=doc.previous.key if doc.previous else None,
                chains=len(doc.chains),
                versions=a.versions,
                hidden=a.hidden,
            )
        )
    return AnchorList(anchors=summaries, total=len(stored))


@router.post("/audit/anchors", **api.doc("POST", "/audit/anchors", audit.AnchorResult, 201))
def anchor_now(request: Annotated[AnchorRequest, Body()]) -> tuple[audit.AnchorResult, int]:
    who = api.caller(router)
    return audit.anchor(who.actor, request.reason), 201
