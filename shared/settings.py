"""Environment settings, validated once at cold start.

Every resource name reaches a function as an environment variable named by the catalogue
(``STEWARD_TABLE_AUDIT``, ``STEWARD_BUCKET_AUDIT_ANCHORS``, ...). CDK sets only the ones a function is
granted; the local runtime sets them all. Asking for one that is not set is a configuration error that names
the variable, never a silent default.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Literal

from pydantic import Field, HttpUrl, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared import catalogue
from shared.errors import ConfigurationError


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STEWARD_", extra="ignore", frozen=True)

    stage: Literal["local", "test", "aws"] = "aws"
    region: str = Field(
        default_factory=lambda: os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "",
        min_length=1,
    )
    # Endpoint override so the same code talks to moto's server locally and to AWS in the cloud.
    aws_endpoint_url: HttpUrl | None = None
    # Number of audit chains written side by side (more chains, more parallel appends).
    audit_chains: int = Field(default=4, ge=1, le=64)
    # Largest request body any API route accepts, in bytes.
    max_body_bytes: int = Field(default=256 * 1024, ge=1024, le=10 * 1024 * 1024)
    organization: str = Field(default="Steward School District", min_length=1, max_length=200)

    def _resource(self, env_var: str) -> str:
        value = os.environ.get(env_var, "").strip()
        if not value:
            raise ConfigurationError(f"{env_var} is not set: this function was not granted that resource")
        return value

    def table_name(self, key: str) -> str:
        return self._resource(catalogue.table(key).env_var)

    def bucket_name(self, key: str) -> str:
        return self._resource(catalogue.bucket(key).env_var)

    def queue_url(self, key: str) -> str:
        return self._resource(catalogue.queue(key).env_var)

    @property
    def endpoint(self) -> str | None:
        return str(self.aws_endpoint_url).rstrip("/") if self.aws_endpoint_url else None


def _variable(loc: tuple[int | str, ...]) -> str:
    """The environment variable a settings field is read from."""
    field = "_".join(str(p) for p in loc)
    return "AWS_REGION (or STEWARD_REGION)" if field == "region" else f"STEWARD_{field.upper()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings; raises ConfigurationError naming every invalid value."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(f"{_variable(e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigurationError(f"invalid settings: {problems}") from exc
