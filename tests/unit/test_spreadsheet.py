"""CSV cells (pure): formula-like text is defused, numbers and booleans are written plainly."""

from __future__ import annotations

import pytest

from shared.domain.spreadsheet import cell


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("-5 stars for the bus", "'-5 stars for the bus"),
        ("+1", "'+1"),
        ("@everyone", "'@everyone"),
        ("\tTab", "'\tTab"),
        ("plain text", "plain text"),
        (-3, "-3"),
        (2.5, "2.5"),
        (True, "true"),
        (None, ""),
    ],
)
def test_cells(value: object, written: str) -> None:
    assert cell(value) == written
