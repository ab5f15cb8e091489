from datetime import UTC, datetime
from decimal import Decimal

import pytest

from events.exporting import escape_formula


@pytest.mark.parametrize(
    "text",
    ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\rx", "\x00x"],
)
def test_escape_formula_prefixes_text_that_starts_a_formula(text):
    assert escape_formula(text) == "'" + text


@pytest.mark.parametrize("text", ["em0", "igb1", "", "a=b", "1000000103", " =x"])
def test_escape_formula_leaves_plain_text_alone(text):
    assert escape_formula(text) == text


@pytest.mark.parametrize(
    "value",
    [-5, 3.5, -3.5, Decimal("-1"), None, True, datetime(2026, 1, 1, tzinfo=UTC)],
)
def test_escape_formula_leaves_non_text_values_untouched(value):
    assert escape_formula(value) is value
