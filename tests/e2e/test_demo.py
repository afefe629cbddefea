"""`steward demo` against a fresh `steward local`: the story the README promises, end to end."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.conftest import LocalSteward

pytestmark = pytest.mark.e2e


def vault_values(local: LocalSteward) -> list[str]:
    """Every password and token held by any version of any account credential in the local vault."""
    client = local.client("secretsmanager")
    found: list[str] = []
    for secret in client.list_secrets(MaxResults=100)["SecretList"]:
        versions = client.list_secret_version_ids(SecretId=secret["ARN"], IncludeDeprecated=True)["Versions"]
        for version in versions:
            raw = client.get_secret_value(SecretId=secret["ARN"], VersionId=version["VersionId"])
            try:
                values: Any = json.loads(raw.get("SecretString") or "null")
            except json.JSONDecodeError:
                continue
            if not isinstance(values, dict) or "login_email" not in values:
                continue  # not an account credential
            tokens = values.get("tokens") or {}
            found += [v for v in (values.get("password"), *tokens.values()) if isinstance(v, str) and v]
    return found


def test_the_demo_shows_a_comment_archived_hidden_for_its_rule_and_restored(local: LocalSteward) -> None:
    result = local.steward("demo")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "rule phone-number (private_information), state actioned" in out
    assert "write-once: events/facebook/" in out
    assert "Facebook received: ['facebook.hide']" in out
    assert '{"state": "overturned"}' in out
    assert "Facebook received: ['facebook.hide', 'facebook.unhide']" in out
    assert "cases for it: 0" in out
    assert "GET /moderation/cases as staff -> 403" in out

    # The official account: requested, approved twice, stewarded, disclosed, activated.
    assert 'POST /accounts as staff -> 201: {"status": "requested", "pending_approval": "principals"' in out
    assert 'approve as principals -> 200: {"status": "requested", "pending_approval": "communications"' in out
    assert 'approve as communications -> 200: {"status": "approved", "pending_approval": null' in out
    assert out.count("POST /accounts/{id}/stewards admin ") == 2
    assert "/stewards editor room12.editor." in out
    assert '"stewards": 3}' in out
    assert 'GET /accounts/{id}/disclosures -> 200: {"complete": false, "missing": ["purpose"' in out
    assert '/disclosures/official_notice/confirm -> 200: {"complete": true, "missing": 0}' in out
    assert 'POST /accounts/{id}/activate as communications -> 200: {"status": "active"' in out

    # The vault: stored, checked out, the password rotated by hand.
    assert 'PUT /accounts/{id}/credential as it -> 200: {"login_email": "room12.social.' in out
    assert '"has_password": true, "has_tokens": true' in out
    assert 'POST /accounts/{id}/credential/checkout as it -> 200: {"version_id": ' in out
    assert '"values": "(returned once, not shown)"' in out
    assert "values returned: login_email, password, tokens" in out
    assert '/credential/rotations as it -> 200: {"rotation": {"kind": "password"' in out
    assert '"next_step": "hand_over"' in out
    assert '/handover -> 200: {"account_id": ' in out
    assert '"password": "(returned once, not shown)"' in out
    assert "current version is the rotation's: True" in out

    # Offboarding an admin: reported below two admins, the token refreshed, the password waiting for IT.
    assert 'POST /offboardings as communications -> 200: {"removed_from": [{"account_id": ' in out
    assert "account below two admins: True" in out
    assert "page token refreshed: True" in out
    assert "Facebook received: ['graph.refresh_token', 'facebook.check_token']" in out
    assert "password rotation: password, next step hand_over" in out

    # A public-records request: held, searched, exported with phone numbers redacted, downloaded and checked.
    assert 'POST /requests as records -> 201: {"due_on": ' in out
    assert '"hold": "records_request"}' in out
    assert 'GET /search?account=…&date_from=…&date_to=… -> 200: {"hits": ' in out
    assert 'POST /requests/{id}/exports -> 202: {"state": "queued"}' in out
    assert "state ready: " in out
    assert "audit verified True" in out
    assert "SHA-256 matches: True" in out
    assert "a BagIt bag: True" in out
    assert "the phone number is anywhere in the package: False" in out

    assert 'GET /audit/verify as records -> 200: {"ok": true}' in out

    # No secret value is ever printed: the stored and rotated passwords, the page tokens.
    secrets = vault_values(local)
    assert len(secrets) >= 4  # two passwords and two page tokens at least
    leaked = [s for s in secrets if s in out or s in result.stderr]
    assert not leaked, "the demo printed a credential value"
