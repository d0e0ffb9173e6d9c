"""Every CSV the service writes is spreadsheet-safe, through one writer (analytics/csv_cells.py)."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest

from analytics.csv_cells import SafeCSVWriter, spreadsheet_safe

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1+cmd", "@SUM(A1)", "\t=1", "\r=1", "\n=1", "-42", "=", "-"])
def test_text_starting_a_formula_is_quoted(text: str) -> None:
    """Catches: one of OWASP's formula triggers left out of the escape."""
    assert spreadsheet_safe(text) == "'" + text


@pytest.mark.parametrize("value", ["plain", "", " =1", "a=1", "'=1", '{"a": "=1"}', "2026-03-11T10:00:00+00:00"])
def test_other_text_is_left_alone(value: str) -> None:
    """Catches: an escape so broad that ordinary text (or a JSON or time cell) is altered."""
    assert spreadsheet_safe(value) == value


@pytest.mark.parametrize("number", [-3.5, -7, Decimal("-3.50"), 0, 1e-9])
def test_numbers_stay_numbers(number: object) -> None:
    """Catches: genuine negative numbers turned into text by the escape."""
    assert spreadsheet_safe(number) is number
    buffer = io.StringIO()
    SafeCSVWriter(buffer).writerow([number, "=x"])
    assert next(csv.reader(io.StringIO(buffer.getvalue()))) == [str(number), "'=x"]


def test_no_module_writes_csv_but_through_the_safe_writer() -> None:
    """Catches: a new export, report or management command writing CSV with a bare `csv.writer`."""
    bare = re.compile(r"csv\.(writer|DictWriter)\(|\.to_csv\(")
    offenders = [
        str(path.relative_to(ROOT))
        for package in ("analytics", "loopin_backend")
        for path in (ROOT / package).rglob("*.py")
        if path.name != "csv_cells.py" and bare.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
