from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel

from shared import api

router = APIGatewayRouter()


class Health(BaseModel):
    status: str
    service: str


@router.get("/health", **api.doc("GET", "/health", Health))
def health() -> Health:
    return Health(status="ok", service="steward")
