"""`steward demo` against a fresh `steward local`: the story the README promises, end to end."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import LocalSteward

pytestmark = pytest.mark.e2e


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
    assert 'GET /audit/verify as records -> 200: {"ok": true}' in out
