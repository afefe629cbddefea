"""The functions that no API Gateway route invokes (queue consumers, schedules) do not load the API framework at
cold start: each is imported in a fresh interpreter and Powertools' event handler must be absent."""

from __future__ import annotations

import subprocess
import sys

import pytest

from shared import catalogue

ROUTED = {r.function for r in catalogue.ROUTES}
BACKGROUND = sorted(f.module for f in catalogue.FUNCTIONS if f.key not in ROUTED)


def test_there_are_background_functions() -> None:
    assert "functions.rotation.handler" in BACKGROUND
    assert "functions.processor.handler" in BACKGROUND


@pytest.mark.parametrize("module", BACKGROUND)
def test_a_background_function_does_not_load_the_api_framework(module: str) -> None:
    probe = (
        f"import sys, {module}; "
        "print(sorted(m for m in sys.modules if m.startswith('aws_lambda_powertools.event_handler') "
        "or m == 'shared.api'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "[]", result.stdout
