"""Tabular exports shared by every list that can be downloaded (findings, work items, the board): rows are
plain dicts keyed by the export's columns and are written as they come, so a million rows need no more
memory than a thousand.

- CSV: UTF-8 with a BOM for spreadsheet programs; every cell goes through the ledger's formula
  neutralisation (a leading ``'`` before ``= + - @``, tab or CR).
- JSON: ``{"format": "ismp-<name>", "version": 1, "columns": […], "<name>": […]}``, a row at a time.
- XLSX: one sheet in openpyxl's write-only mode; numbers stay numbers, text is neutralised and stripped of
  the control characters XML cannot carry. A download is spooled to a temporary file (a zip's end is
  written last); CSV and JSON stream.
"""

from __future__ import annotations

import csv
import json
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from typing import IO, Any

from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from openpyxl import Workbook

from ismp.engines.inventory.ledger import neutralise
from ismp.errors import InputError

FORMATS = ("csv", "xlsx", "json")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

Rows = Iterator[dict[str, Any]]


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def json_value(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def xlsx_cell(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return neutralise(_XML_ILLEGAL.sub("", cell_text(value)))


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def csv_chunks(rows: Rows, columns: Sequence[str]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(columns)
    for row in rows:
        yield writer.writerow([neutralise(cell_text(row[c])) for c in columns])


def json_chunks(rows: Rows, columns: Sequence[str], name: str) -> Iterator[str]:
    yield f'{{"format": "ismp-{name}", "version": 1, "columns": {json.dumps(list(columns))}, "{name}": ['
    separator = "\n"
    for row in rows:
        yield separator + json.dumps({c: json_value(row[c]) for c in columns}, ensure_ascii=False)
        separator = ",\n"
    yield "\n]}\n"


def write_xlsx(
    rows: Rows, columns: Sequence[str], sheet_name: str, stream: IO[bytes], cell: Callable[[Any], Any] = xlsx_cell
) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_name)
    sheet.append(list(columns))
    for row in rows:
        sheet.append([cell(row[c]) for c in columns])
    workbook.save(stream)


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; expected csv, xlsx or json", field="format")


def write_table(
    rows: Rows,
    columns: Sequence[str],
    name: str,
    fmt: str,
    stream: IO[bytes],
    xlsx: Callable[[Any], Any] = xlsx_cell,
) -> None:
    """Write ``rows`` in ``fmt`` to a binary stream (the CLI's way)."""
    check_format(fmt)
    if fmt == "xlsx":
        write_xlsx(rows, columns, name, stream, xlsx)
        return
    for chunk in csv_chunks(rows, columns) if fmt == "csv" else json_chunks(rows, columns, name):
        stream.write(chunk.encode("utf-8"))


def download(
    rows: Callable[[], Rows], columns: Sequence[str], name: str, fmt: str, xlsx: Callable[[Any], Any] = xlsx_cell
) -> HttpResponse:
    """``rows()`` as a download named ``ismp-<name>-<local time>.<fmt>``."""
    check_format(fmt)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response: HttpResponse
    if fmt == "xlsx":
        spool = tempfile.TemporaryFile()  # noqa: SIM115  # FileResponse closes it
        write_xlsx(rows(), columns, name, spool, xlsx)
        spool.seek(0)
        response = FileResponse(spool, content_type=CONTENT_TYPES[fmt])  # type: ignore[assignment]
    else:
        chunks = csv_chunks(rows(), columns) if fmt == "csv" else json_chunks(rows(), columns, name)
        response = StreamingHttpResponse(chunks, content_type=CONTENT_TYPES[fmt])  # type: ignore[assignment]
    response["Content-Disposition"] = f'attachment; filename="ismp-{name}-{stamp}.{fmt}"'
    return response
