"""django-import-export through the spreadsheet kernel (the admin's imports and exports).

* ``IntakeXLSX`` reads an import with the intake (``read_rows``: every check before parsing,
  python-calamine after) instead of openpyxl, and writes an export with the shared writer.
* ``IntakeCSV`` refuses a CSV that is not UTF-8 or is larger than the limits, and writes
  formula-like text with a leading apostrophe (OWASP; a CSV cell has no "text" type).
* ``SpreadsheetImportExportMixin`` puts both on a ``ModelAdmin``, refuses an upload larger than
  ``MAX_UPLOAD_BYTES`` in the form, and shows a refusal's own message instead of the package's
  "… encountered while trying to read file".

django-import-export's own ``IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT`` is not used: it only
drops a leading ``=`` (so ``=HYPERLINK(…)`` loses its first character and ``+``, ``-``, ``@``
pass) and turns every cell, numbers included, into text.
"""

from __future__ import annotations

import csv
import io

import tablib
from django import forms
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _
from import_export.formats.base_formats import CSV, XLSX
from import_export.forms import ImportForm

from .base import FILE_TOO_LARGE, TOO_MANY_COLUMNS, TOO_MANY_ROWS, Limits, SpreadsheetRefused, refuse, size_text
from .intake import read_rows
from .writer import append_row, csv_safe, new_workbook, workbook_bytes

CSV_NOT_UTF8 = _(
    "The CSV file is not encoded in UTF-8: save it again as “CSV UTF-8 (comma delimited)” and upload "
    "that file, or upload the Excel workbook (.xlsx) instead."
)


def _header(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return force_str(value).strip() if value is not None else ""


def _blank(row) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


class IntakeXLSX(XLSX):
    """.xlsx through the intake (imports) and the shared writer (exports)."""

    def create_dataset(self, in_stream):
        rows = read_rows(in_stream)
        dataset = tablib.Dataset()
        if not rows:
            return dataset
        dataset.headers = [_header(v) for v in rows[0]]
        for row in rows[1:]:
            if not _blank(row):
                dataset.append(list(row))
        return dataset

    def export_data(self, dataset, **kwargs):
        from openpyxl.styles import Font

        wb = new_workbook()
        ws = wb.active
        ws.title = "".join("-" if ch in "[]:*?/\\" else ch for ch in (dataset.title or "Sheet1"))[:31]
        if dataset.headers:
            append_row(ws, list(dataset.headers))
            for cell in ws[1]:
                cell.font = Font(bold=True)
            ws.freeze_panes = "A2"
        for row in dataset:
            append_row(ws, list(row))
        return workbook_bytes(wb)


class IntakeCSV(CSV):
    """CSV with the limits of the intake (UTF-8, size, rows, columns) and OWASP's export rule."""

    def create_dataset(self, in_stream, **kwargs):
        limits = Limits.from_settings()
        if isinstance(in_stream, bytes):
            if len(in_stream) > limits.max_upload_bytes:
                raise refuse(FILE_TOO_LARGE, size=size_text(len(in_stream)), limit=size_text(limits.max_upload_bytes))
            try:
                in_stream = in_stream.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise SpreadsheetRefused(CSV_NOT_UTF8) from None
        count = 0
        for count, row in enumerate(csv.reader(io.StringIO(in_stream)), start=1):
            if count > limits.max_rows:
                raise refuse(TOO_MANY_ROWS, part="CSV", row=f"{count:,}", limit=f"{limits.max_rows:,}")
            if len(row) > limits.max_columns:
                raise refuse(
                    TOO_MANY_COLUMNS,
                    part="CSV",
                    column=len(row),
                    number=f"{len(row):,}",
                    limit=f"{limits.max_columns:,}",
                )
        return super().create_dataset(in_stream, **kwargs)

    def export_data(self, dataset, **kwargs):
        safe = tablib.Dataset(headers=[csv_safe(h) for h in dataset.headers] if dataset.headers else None)
        for row in dataset:
            safe.append([csv_safe(v) for v in row])
        return super().export_data(safe, **kwargs)


class IntakeImportForm(ImportForm):
    """The admin's import form, refusing an upload over ``MAX_UPLOAD_BYTES`` before it is read."""

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        limit = Limits.from_settings().max_upload_bytes
        if upload.size > limit:
            raise forms.ValidationError(FILE_TOO_LARGE % {"size": size_text(upload.size), "limit": size_text(limit)})
        return upload


class SpreadsheetImportExportMixin:
    """For ``ImportExportModelAdmin``s: imports and exports through the spreadsheet kernel."""

    import_formats = [IntakeXLSX, IntakeCSV]
    export_formats = [IntakeXLSX, IntakeCSV]
    import_form_class = IntakeImportForm

    def add_data_read_fail_error_to_form(self, form, e):
        if isinstance(e, SpreadsheetRefused):
            form.add_error("import_file", force_str(e.message))
        elif isinstance(e, UnicodeDecodeError):
            form.add_error("import_file", force_str(CSV_NOT_UTF8))
        else:
            super().add_data_read_fail_error_to_form(form, e)
