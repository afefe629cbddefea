"""Platform access tokens Steward acts with, until the credential vault exists (issue 4).

One catalogue secret, ``platform-tokens``: a JSON object ``{"<platform>:<account id>": "<token>"}``, read through
Powertools parameters with the same short cache as the app secrets. A token is never logged, returned by the API
or put in an error; an account without one is reported as such (the case shows the action could not be taken).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError

from shared.errors import ConfigurationError, Unavailable
from shared.settings import get_settings
from shared.store import aws

CATALOGUE_KEY = "platform-tokens"  # the catalogue key of the secret (its name comes from the settings)


def token_key(platform: str, account_id: str) -> str:
    return f"{platform}:{account_id}"


@lru_cache(maxsize=1)
def _provider() -> SecretsProvider:
    return SecretsProvider(boto3_client=aws.secretsmanager())


def token_for(platform: str, account_id: str) -> str | None:
    """The access token for one account, or None when the secret holds none for it."""
    settings = get_settings()
    try:
        value: Any = _provider().get(
            settings.secret_name(CATALOGUE_KEY),
            transform="json",
            max_age=settings.secrets_cache_seconds,
            VersionStage="AWSCURRENT",
        )
    except TransformParameterError as exc:
        raise ConfigurationError(f"secret {CATALOGUE_KEY} is not a JSON object") from exc
    except GetParameterError as exc:
        raise Unavailable(f"secret {CATALOGUE_KEY} could not be read") from exc
    if not isinstance(value, dict):
        raise ConfigurationError(f"secret {CATALOGUE_KEY} must be a JSON object of platform:account -> token")
    token = value.get(token_key(platform, account_id))
    return token if isinstance(token, str) and token else None


def reset() -> None:
    _provider.cache_clear()
