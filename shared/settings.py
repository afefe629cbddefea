"""Environment settings, validated once at cold start.

A frozen dataclass rather than a pydantic-settings model: the webhook receiver must start fast (its import
time is measured against ``import boto3``), and pydantic-settings alone costs more than the whole budget.
Every field is read from ``STEWARD_<FIELD>``, checked, and every invalid value is named in one error.

Every resource name reaches a function as an environment variable named by the catalogue
(``STEWARD_TABLE_AUDIT``, ``STEWARD_BUCKET_AUDIT_ANCHORS``, ...). CDK sets only the ones a function is
granted; the local runtime sets them all. Asking for one that is not set is a configuration error that names
the variable, never a silent default.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from shared import catalogue
from shared.errors import ConfigurationError

STAGES = ("local", "test", "aws")


@dataclass(frozen=True)
class Settings:
    stage: str = "aws"
    region: str = ""
    # Endpoint override so the same code talks to moto's server locally and to AWS in the cloud.
    aws_endpoint_url: str | None = None
    # Number of audit chains written side by side (more chains, more parallel appends).
    audit_chains: int = 4
    # Largest request body any API route accepts, in bytes.
    max_body_bytes: int = 256 * 1024
    # Largest webhook delivery accepted, in bytes (Meta sends up to 1,000 changes in one POST).
    webhook_max_body_bytes: int = 4 * 1024 * 1024
    # How long platform app secrets are cached in memory, in seconds.
    secrets_cache_seconds: int = 60
    organization: str = "Steward School District"
    # Default COMPLIANCE retention of archived content, in days (the retention schedules refine it).
    archive_retention_days: int = 730
    # The longest date range one search may span (records requests are answered in parts beyond it).
    search_max_days: int = 400
    # How long a download link to an export package is valid, in seconds (a bearer link: minutes, not hours).
    export_link_seconds: int = 300
    # Platform API base URLs (the local runtime points them at its fake platform server on loopback).
    meta_graph_url: str = "https://graph.facebook.com/v21.0"
    x_api_url: str = "https://api.x.com"
    youtube_api_url: str = "https://www.googleapis.com/youtube/v3"
    # Google's OAuth 2.0 token endpoint base (refreshing YouTube channel tokens: ``POST {url}/token``).
    google_oauth_url: str = "https://oauth2.googleapis.com"
    # Platform calls: per-request timeout and attempts before a call is reported failed.
    platform_timeout_seconds: int = 10
    platform_attempts: int = 3
    # The reporting contacts named in critical-incident notices (003 AR 1114 III.A.3). Plain text a district sets to
    # its own agencies; the defaults quote the policy.
    contact_law_enforcement: str = (
        "Law enforcement: the county sheriff or police (003 III.A.3.a names the Kern County Sheriff, 861-3110); "
        "for sexualized images of minors, county, state and federal law enforcement (003 III.A.3.b)"
    )
    contact_child_protective_services: str = "Child Protective Services of the county (003 III.A.3.c)"
    # How long a platform action Steward performed waits for its echo webhook, in seconds.
    pending_action_seconds: int = 7 * 24 * 3600

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

    def dead_letter_queue_url(self, key: str) -> str:
        return self._resource(catalogue.queue(key).dlq_env_var)

    def secret_name(self, key: str) -> str:
        return self._resource(catalogue.secret(key).env_var)

    def topic_arn(self, key: str) -> str:
        return self._resource(catalogue.topic(key).env_var)

    @property
    def endpoint(self) -> str | None:
        return self.aws_endpoint_url.rstrip("/") if self.aws_endpoint_url else None


def _integer(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            raise ValueError("must be a whole number") from None
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}")
        return value

    return parse


def _choice(raw: str) -> str:
    if raw not in STAGES:
        raise ValueError(f"must be one of {', '.join(STAGES)}")
    return raw


def _url(raw: str) -> str | None:
    if not raw.strip():
        return None
    parts = urlsplit(raw.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http(s) URL")
    return raw.strip()


def _required_url(raw: str) -> str:
    url = _url(raw)
    if url is None:
        raise ValueError("must be an http(s) URL")
    return url.rstrip("/")


def _text(low: int, high: int) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if not low <= len(raw.strip()) <= high:
            raise ValueError(f"must be {low} to {high} characters")
        return raw.strip()

    return parse


_FIELDS: dict[str, Callable[[str], Any]] = {
    "stage": _choice,
    "aws_endpoint_url": _url,
    "audit_chains": _integer(1, 64),
    "max_body_bytes": _integer(1024, 10 * 1024 * 1024),
    "webhook_max_body_bytes": _integer(64 * 1024, 10 * 1024 * 1024),
    "secrets_cache_seconds": _integer(0, 3600),
    "organization": _text(1, 200),
    "archive_retention_days": _integer(1, 36500),
    "search_max_days": _integer(1, 3660),
    "export_link_seconds": _integer(60, 3600),
    "meta_graph_url": _required_url,
    "x_api_url": _required_url,
    "youtube_api_url": _required_url,
    "google_oauth_url": _required_url,
    "platform_timeout_seconds": _integer(1, 60),
    "platform_attempts": _integer(1, 10),
    "contact_law_enforcement": _text(3, 500),
    "contact_child_protective_services": _text(3, 500),
    "pending_action_seconds": _integer(60, 90 * 24 * 3600),
}


def load(environ: Mapping[str, str]) -> Settings:
    """Settings from an environment; raises ConfigurationError naming every invalid variable at once."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name, parse in _FIELDS.items():
        raw = environ.get(f"STEWARD_{name.upper()}")
        if raw is None:
            continue
        try:
            values[name] = parse(raw)
        except ValueError as exc:
            problems.append(f"STEWARD_{name.upper()}: {exc}")
    region = (
        environ.get("STEWARD_REGION") or environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or ""
    )
    if not region.strip():
        problems.append("AWS_REGION (or STEWARD_REGION): must be set")
    if problems:
        raise ConfigurationError(f"invalid settings: {'; '.join(problems)}")
    return Settings(region=region.strip(), **values)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings; raises ConfigurationError naming every invalid value."""
    return load(os.environ)
