"""Platform access tokens Steward acts with, until the credential vault exists (issue 4).

One catalogue secret, ``platform-tokens``: a JSON object ``{"<platform>:<account id>": "<token>"}``, read through
Powertools parameters with the same short cache as the app secrets. A token is never logged, returned by the API
or put in an error; an account without one is reported as such (the case shows the action could not be taken).
"""

from __future__ import annotations

from shared.store import secrets

CATALOGUE_KEY = "platform-tokens"  # the catalogue key of the secret (its name comes from the settings)


def token_key(platform: str, account_id: str) -> str:
    return f"{platform}:{account_id}"


def token_for(platform: str, account_id: str) -> str | None:
    """The access token for one account, or None when the secret holds none for it."""
    token = secrets.secret_json(CATALOGUE_KEY).get(token_key(platform, account_id))
    return token if isinstance(token, str) and token else None
