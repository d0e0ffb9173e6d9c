"""CSV that a spreadsheet opens without running anything: the one writer for every CSV the service writes.

A text cell that starts with `=`, `+`, `-`, `@`, a tab, a carriage return or a line feed is read by Excel,
LibreOffice and Google Sheets as a formula (OWASP, "CSV Injection"), so a tracked user id of
`=HYPERLINK("http://evil.test","x")` would run in the analyst's spreadsheet. Such a cell is written with a
leading single quote, which spreadsheets show as text and hide.

Only text is escaped: a genuine number (an int, float or Decimal value, such as a refund's `-3.50`) is
written as the number it is. Text that merely looks like a number (a user id `-42`) is text and is
escaped like any other: an identifier must not turn into a number (nor lose its leading zeros).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, Protocol

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


def spreadsheet_safe(value: Any) -> Any:
    """`value` as a CSV cell no spreadsheet will evaluate: text starting with a formula trigger gets a
    leading `'`; anything that is not text (numbers, None) is returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


class SafeCSVWriter:
    """`csv.writer` whose every row goes through `spreadsheet_safe`."""

    def __init__(self, stream: _Writable) -> None:
        self._writer = csv.writer(stream)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([spreadsheet_safe(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


__all__ = ["FORMULA_TRIGGERS", "SafeCSVWriter", "spreadsheet_safe"]
