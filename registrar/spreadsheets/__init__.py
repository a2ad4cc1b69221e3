"""The spreadsheet kernel: one intake for every uploaded workbook, one writer for every export.

* ``intake``: ``open_workbook`` / ``read_rows`` check an upload (size, zip, compression ratio,
  macros, encryption, cell positions against ``REGISTRAR["SPREADSHEETS"]``) before
  python-calamine parses it, and raise ``SpreadsheetRefused`` naming the problem.
* ``writer``: ``new_workbook`` / ``append_row`` / ``workbook_bytes``: every xlsx the app produces
  stores text starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return as text, never a
  formula (OWASP "CSV injection"), and keeps numbers numeric.
* ``importexport``: the same two for django-import-export's admin imports and exports.
"""

from .base import Limits, SpreadsheetRefused
from .intake import Workbook, check_upload, open_workbook, read_rows
from .writer import append_row, csv_safe, formula_like, new_workbook, workbook_bytes

__all__ = [
    "Limits",
    "SpreadsheetRefused",
    "Workbook",
    "append_row",
    "check_upload",
    "csv_safe",
    "formula_like",
    "new_workbook",
    "open_workbook",
    "read_rows",
    "workbook_bytes",
]
