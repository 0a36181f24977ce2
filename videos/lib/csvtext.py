"""CSV for people's spreadsheets: cells that cannot run as formulas, rows streamed.

A spreadsheet runs a cell that begins with ``=``, ``+``, ``-``, ``@`` (or a tab or
carriage return before one) as a formula ("CSV injection", OWASP); ``safe_cell``
puts an apostrophe in front, which the spreadsheet shows as text.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

#: First characters a spreadsheet reads as the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """``value`` as CSV cell text: None is empty; text beginning with a formula character
    gets a leading apostrophe (``=1+1`` → ``'=1+1``)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Line:
    """A file for ``csv.writer`` that hands back what was written instead of keeping it."""

    def write(self, value: str) -> str:
        return value


#: The byte-order mark that makes Excel read a CSV as UTF-8 (without it, a Chinese prompt is mojibake).
BOM = "\ufeff"


def csv_lines(rows: Iterable[Iterable]) -> Iterator[str]:
    """Yield a BOM, then each row of ``rows`` as one CSV line (``\\r\\n`` ended, every cell
    ``safe_cell``), one at a time, so a long export never sits in memory."""
    yield BOM
    writer = csv.writer(_Line())
    for row in rows:
        yield writer.writerow([safe_cell(cell) for cell in row])
