"""Platform app secrets from Secrets Manager, through Powertools parameters with a short in-memory cache.

Never from code or plain environment values: a function gets only the *name* of each secret it was granted
(``STEWARD_SECRET_*``). Values are never logged, returned or put in an error.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError

from shared import catalogue
from shared.errors import ConfigurationError, Unavailable
from shared.settings import get_settings
from shared.store import aws


@lru_cache(maxsize=1)
def _provider() -> SecretsProvider:
    return SecretsProvider(boto3_client=aws.secretsmanager())


def secret_json(key: str) -> dict[str, Any]:
    """Secret ``key`` as a JSON object, cached for ``STEWARD_SECRETS_CACHE_SECONDS``."""
    settings = get_settings()
    try:
        value: Any = _provider().get(
            settings.secret_name(key),
            transform="json",
            max_age=settings.secrets_cache_seconds,
            VersionStage="AWSCURRENT",
        )
    except TransformParameterError as exc:
        raise ConfigurationError(f"secret {key} is not a JSON object") from exc
    except GetParameterError as exc:
        raise Unavailable(f"secret {key} could not be read") from exc
    if not isinstance(value, dict):
        raise ConfigurationError(f"secret {key} is not a JSON object")
    return value


def secret_fields(key: str) -> dict[str, str]:
    """The declared fields of secret ``key``, each a non-empty string."""
    spec = catalogue.secret(key)
    value = secret_json(key)
    if any(not isinstance(value.get(f), str) or not value[f] for f in spec.fields):
        raise ConfigurationError(f"secret {key} must hold the string fields: {', '.join(spec.fields)}")
    return {f: value[f] for f in spec.fields}


def reset() -> None:
    _provider.cache_clear()
