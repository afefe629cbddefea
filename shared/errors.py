"""Domain errors. Each carries the HTTP status it maps to; ``shared.api`` turns them into responses in one
place, so handlers never build error responses themselves."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any


class StewardError(Exception):
    """Base of every error Steward raises on purpose."""

    status: HTTPStatus = HTTPStatus.INTERNAL_SERVER_ERROR
    code: str = "internal_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.details:
            body["details"] = self.details
        return body


class BadRequest(StewardError):
    status = HTTPStatus.BAD_REQUEST
    code = "bad_request"


class Unauthorized(StewardError):
    status = HTTPStatus.UNAUTHORIZED
    code = "unauthorized"


class Forbidden(StewardError):
    status = HTTPStatus.FORBIDDEN
    code = "forbidden"


class NotFound(StewardError):
    status = HTTPStatus.NOT_FOUND
    code = "not_found"


class Conflict(StewardError):
    status = HTTPStatus.CONFLICT
    code = "conflict"


class Gone(StewardError):
    """The thing existed but is no longer available (an expired export package)."""

    status = HTTPStatus.GONE
    code = "gone"


class PayloadTooLarge(StewardError):
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    code = "payload_too_large"


class Unavailable(StewardError):
    """A dependency (AWS, a platform) failed; the caller may retry. Nothing was changed."""

    status = HTTPStatus.SERVICE_UNAVAILABLE
    code = "unavailable"


class NotConfigured(Unavailable):
    """A secret the function needs still holds the deployment's placeholder (or is too short to be real)."""

    code = "not_configured"


class ConfigurationError(StewardError):
    """The function is deployed wrong: a missing or invalid setting."""

    status = HTTPStatus.INTERNAL_SERVER_ERROR
    code = "configuration_error"


class InvalidParameter(StewardError):
    """A query parameter with a value that parses but means nothing (422, naming the parameter)."""

    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "invalid_request"
