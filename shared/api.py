"""What every API function shares: the validating resolver, role checks from the route table, and the one
place domain errors become HTTP responses.

    app = api.resolver()
    app.include_router(routes.router)

Role enforcement reads ``shared.catalogue.ROUTES``: a route not in that table is refused (fail closed).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, StringConstraints
from pynamodb.exceptions import PynamoDBException

from shared import catalogue
from shared.catalogue import Role
from shared.errors import BadRequest, StewardError, Unauthorized
from shared.identity import Identity
from shared.observability import logger
from shared.settings import get_settings

# A written reason or note: surrounding whitespace is not part of it, so one of only spaces is missing (422).
Reason = Annotated[str, StringConstraints(strip_whitespace=True)]

_SPLIT = re.compile(r"[\s,\[\]]+")


class ErrorBody(BaseModel):
    message: str
    code: str
    details: Any | None = None


def parse_groups(value: Any) -> frozenset[Role]:
    """API Gateway passes every claim as a string ("a,b" or "[a b]"); a list arrives from other sources."""
    if value is None:
        return frozenset()
    names = value if isinstance(value, list) else _SPLIT.split(str(value))
    known = {r.value for r in Role}
    return frozenset(Role(n) for n in names if n in known)


def identity_from_claims(claims: dict[str, Any] | None) -> Identity | None:
    if not claims or not claims.get("sub"):
        return None
    return Identity(
        subject=str(claims["sub"]),
        username=str(claims.get("cognito:username") or claims.get("username") or claims["sub"]),
        email=claims.get("email"),
        roles=parse_groups(claims.get("cognito:groups")),
    )


def _error(status: HTTPStatus, message: str, code: str, details: Any = None) -> Response[str]:
    body = ErrorBody(message=message, code=code, details=details).model_dump(exclude_none=True)
    return Response(status_code=int(status), content_type="application/json", body=json.dumps(body))


def _refusal(status: HTTPStatus, message: str, code: str) -> dict[str, Any]:
    body = ErrorBody(message=message, code=code).model_dump_json(exclude_none=True)
    return {
        "statusCode": int(status),
        "headers": {"Content-Type": "application/json"},
        "body": body,
        "isBase64Encoded": False,
    }


def gate(event: Mapping[str, Any]) -> Identity | dict[str, Any] | None:
    """Check a request against the route table before anything reads its input.

    Returns the caller's identity, ``None`` for a public route, or a ready 401/403/413 response. A route missing
    from the table is refused (fail closed); unknown paths fall through to the resolver's 404.
    """
    method = str(event.get("httpMethod", ""))
    resource = str(event.get("resource", ""))
    route = catalogue.find_route(method, resource)
    if route is None:
        if catalogue.match_path(method, str(event.get("path", ""))) is None:
            return None
        return _refusal(HTTPStatus.FORBIDDEN, "this route is not in the access table", "forbidden")
    body = event.get("body") or ""
    size = len(body) * 3 // 4 if event.get("isBase64Encoded") else len(body.encode())
    limit = get_settings().max_body_bytes
    if size > limit:
        return _refusal(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"the body is {size} bytes; the limit is {limit}",
            "payload_too_large",
        )
    if route.public:
        return None
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    who = identity_from_claims(authorizer.get("claims"))
    if who is None:
        return _refusal(
            HTTPStatus.UNAUTHORIZED,
            "a valid token is required (Authorization: Bearer <Cognito ID token>)",
            "unauthorized",
        )
    if not (who.roles & route.roles):
        allowed = ", ".join(sorted(route.roles))
        return _refusal(
            HTTPStatus.FORBIDDEN, f"{method} {route.path} needs one of the roles: {allowed}", "forbidden"
        )
    return who


class StewardResolver(APIGatewayRestResolver):
    """Checks the caller's roles from the route table first, then validates and routes as usual."""

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        outcome = gate(event)
        if isinstance(outcome, dict):
            return outcome
        if outcome is not None:
            self.append_context(identity=outcome)  # type: ignore[no-untyped-call]
            logger.append_keys(actor=outcome.actor)
        return super().resolve(event, context)


def caller(router: APIGatewayRestResolver | APIGatewayRouter) -> Identity:
    """The authorized caller of the current request (set by the role check)."""
    who = router.context.get("identity")
    if not isinstance(who, Identity):
        raise Unauthorized("a valid token is required")
    return who


class BadJson(BadRequest):
    code = "bad_json"


def json_body(text: str) -> Any:
    """The request body parsed as JSON. Input ``json.loads`` cannot take without crashing (nesting deeper than
    the interpreter's recursion limit, integers longer than its digit limit) is the caller's 400, not a 500."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise BadJson("the body is not valid JSON: it is nested too deeply") from None
    except ValueError as exc:
        raise BadJson(f"the body is not valid JSON: {exc}") from None


def resolver() -> StewardResolver:
    """A validating resolver with role checks and the error mapping installed."""
    app = StewardResolver(enable_validation=True, json_body_deserializer=json_body)

    @app.exception_handler(StewardError)
    def _steward_error(exc: StewardError) -> Response[str]:
        if exc.status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            logger.exception("request failed", extra={"code": exc.code})
        return _error(exc.status, exc.message, exc.code, exc.details or None)

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response[str]:
        if any(e.get("type") == "json_invalid" for e in exc.errors()):
            return _error(HTTPStatus.BAD_REQUEST, "the body is not valid JSON", "bad_json")
        problems = [_describe(e) for e in exc.errors()]
        return _error(HTTPStatus.UNPROCESSABLE_ENTITY, "; ".join(problems), "invalid_request", problems)

    @app.exception_handler(json.JSONDecodeError)
    def _malformed(exc: json.JSONDecodeError) -> Response[str]:
        return _error(
            HTTPStatus.BAD_REQUEST, f"the body is not valid JSON: {exc.msg} at position {exc.pos}", "bad_json"
        )

    @app.exception_handler(UnicodeDecodeError)
    def _not_text(exc: UnicodeDecodeError) -> Response[str]:
        return _error(HTTPStatus.BAD_REQUEST, "the body is not valid UTF-8", "bad_encoding")

    @app.exception_handler([ClientError, BotoCoreError, PynamoDBException])
    def _aws(exc: Exception) -> Response[str]:
        logger.exception("an AWS call failed", extra={"error": exc.__class__.__name__})
        return _error(
            HTTPStatus.SERVICE_UNAVAILABLE, "a storage service failed; nothing was changed", "unavailable"
        )

    @app.not_found
    def _not_found(exc: NotFoundError) -> Response[str]:
        return _error(
            HTTPStatus.NOT_FOUND,
            f"no route {app.current_event.http_method} {app.current_event.path}",
            "not_found",
        )

    return app


def _describe(error: Any) -> str:
    loc = [str(p) for p in error.get("loc", ()) if p not in ("body",)]
    where = ".".join(loc) if loc else "body"
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return f"{where}: unknown field"
    if kind == "missing":
        return f"{where}: required"
    return f"{where}: {error.get('msg', 'invalid')}"


_ERROR_CONTENT = {"application/json": {"model": ErrorBody}}
BEARER = "cognito"


# Answers a route gives beyond the ones every route can give, with what they mean.
ERROR_STATUSES: dict[int, str] = {
    404: "Nothing exists under an id in the path",
    409: "The request conflicts with the current state; nothing was changed",
    410: "It existed but is no longer available",
}


def doc(
    method: str,
    path: str,
    ok: type[BaseModel] | None = None,
    ok_status: int = 200,
    errors: tuple[int, ...] = (),
) -> dict[str, Any]:
    """OpenAPI metadata for a route, taken from the route table (which must list it).

    Besides 400, 413, 422 and 503 (and 401, 403 when a token is needed), a route with an id in its path documents
    404, a route that changes state documents 409, and ``errors`` adds any other status of ``ERROR_STATUSES``.
    """
    route = catalogue.find_route(method, path)
    if route is None:
        raise LookupError(f"{method} {path} is not in shared.catalogue.ROUTES")
    responses: dict[int, Any] = {
        ok_status: {
            "description": "Success",
            **({"content": {"application/json": {"model": ok}}} if ok else {}),
        },
        400: {"description": "Malformed request", "content": _ERROR_CONTENT},
        413: {"description": "Body too large", "content": _ERROR_CONTENT},
        422: {"description": "Invalid parameters or body", "content": _ERROR_CONTENT},
        503: {"description": "A dependency failed; nothing was changed", "content": _ERROR_CONTENT},
    }
    implied = ((404,) if "{" in path else ()) + ((409,) if method != "GET" else ())
    for status in (*implied, *errors):
        responses[status] = {"description": ERROR_STATUSES[status], "content": _ERROR_CONTENT}
    if route.public:
        roles = "Public: no token needed."
    else:
        roles = "Roles: " + ", ".join(sorted(route.roles)) + "."
        responses[401] = {"description": "Missing or invalid token", "content": _ERROR_CONTENT}
        responses[403] = {
            "description": "The caller's roles do not allow this route",
            "content": _ERROR_CONTENT,
        }
    return {
        "summary": route.summary,
        "description": roles,
        "responses": responses,
        "tags": [route.function],
        "security": [] if route.public else [{BEARER: []}],
        "openapi_extensions": {"x-steward-roles": sorted(route.roles)},
    }
