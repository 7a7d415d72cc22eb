"""The spreadsheet ledger: one row per system × component, as CSV or XLSX (docs/inventory-format.md).

A system without components has one row with empty component columns. Columns are
:data:`~ismp.engines.inventory.records.LEDGER_COLUMNS` in any order; headings may be written in
English or Japanese (see :data:`HEADER_ALIASES`). Only ``system`` is required.

Reading collects every bad row and raises one :class:`~ismp.errors.InputErrors`; it never returns part of
a file. Writing neutralises spreadsheet formulas (a leading ``'``), and reading removes that ``'`` again,
so an exported ledger imports unchanged.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import BinaryIO

from openpyxl import Workbook, load_workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from ismp.engines.inventory.component import make_component
from ismp.engines.inventory.records import COMPONENT_COLUMNS, LEDGER_COLUMNS, REQUIRED_COLUMNS, LedgerRow
from ismp.engines.inventory.registry import ErrorList, check_size, register
from ismp.errors import InputError

SHEET_NAME = "inventory"
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

# Column headings people write, by canonical column. Matching ignores case, width (NFKC), spaces, "_"
# and "-", so "System Name", "system_name" and "ＳＹＳＴＥＭ　ＮＡＭＥ" are the same heading.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "system": ("system", "system name", "システム名", "システム"),
    "purpose": ("purpose", "用途"),
    "organisation": ("organisation", "organization", "所管組織", "組織"),
    "service_owner": ("service owner", "サービス責任者"),
    "administrators": ("administrators", "administrator", "システム管理者", "管理者"),
    "lifecycle": ("lifecycle", "ライフサイクル"),
    "system_type": ("system type", "システム種別"),
    "criticality": ("criticality", "重要度"),
    "has_global_ip": ("has global ip", "global ip", "グローバルIP", "グローバルIPアドレス"),
    "addresses": ("addresses", "address", "ip address", "ip addresses", "IPアドレス"),
    "fqdns": ("fqdns", "fqdn", "ホスト名"),
    "urls": ("urls", "url"),
    "hardware": ("hardware", "ハードウェア"),
    "location": ("location", "設置場所"),
    "notes": ("notes", "note", "remarks", "備考"),
    "cpe": ("cpe",),
    "purl": ("purl", "package url"),
    "part": ("part", "種別(part)", "種別"),
    "vendor": ("vendor", "ベンダー", "ベンダ"),
    "product": ("product", "製品", "製品名"),
    "version": ("version", "バージョン"),
}


def heading_key(text: str) -> str:
    """The form in which headings are compared: NFKC, case-folded, without spaces, "_" or "-"."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\s_\-]+", "", folded)


_HEADINGS: dict[str, str] = {
    heading_key(alias): column for column, aliases in HEADER_ALIASES.items() for alias in (column, *aliases)
}


# --- formula neutralisation -------------------------------------------------------------------------


def _needs_quote(value: str) -> bool:
    """True when a spreadsheet could take the value for a formula (possibly behind quotes we add)."""
    return value.lstrip("'").startswith(FORMULA_TRIGGERS)


def neutralise(value: str) -> str:
    """Make a cell value safe to open in a spreadsheet: prefix ``'`` when it could start a formula.

    Values starting with ``= + - @``, tab or CR get a leading ``'``, and so do values that already start
    with ``'`` before one of those, so :func:`unneutralise` restores every value exactly.
    """
    return "'" + value if _needs_quote(value) else value


def unneutralise(value: str) -> str:
    """Undo :func:`neutralise`: drop the leading ``'`` that it would have added."""
    return value[1:] if value.startswith("'") and _needs_quote(value[1:]) else value


# --- reading ------------------------------------------------------------------------------------------


def read_ledger(
    data: bytes | BinaryIO,
    filename: str,
    *,
    max_bytes: int,
    fmt: str | None = None,
    collect: ErrorList | None = None,
) -> list[LedgerRow]:
    """Read a ledger (``fmt`` "csv" or "xlsx"; by default from the file name) into rows.

    Raises :class:`InputError` for a file that cannot be read at all and :class:`InputErrors` listing
    every bad row otherwise. With ``collect``, bad rows are added to it instead and the good rows are
    returned, so that a caller can add its own checks and report everything at once; the caller must then
    raise (``collect.raise_if_any()``) before applying anything. Lines are 1-based file lines
    (spreadsheet row numbers for XLSX).
    """
    fmt = fmt or ("xlsx" if filename.lower().endswith((".xlsx", ".xlsm")) else "csv")
    if fmt not in ("csv", "xlsx"):
        raise ValueError(f'ledger format must be "csv" or "xlsx", not "{fmt}"')
    raw = _read_limited(data, filename, max_bytes)
    records = _csv_records(raw, filename) if fmt == "csv" else _xlsx_records(raw, filename, max_bytes)
    return _rows(records, filename, collect)


@register("csv")
def read_csv_ledger(data: bytes, filename: str, *, max_bytes: int) -> list[LedgerRow]:
    """The ledger as CSV (UTF-8 with or without BOM, or Shift_JIS/cp932 from Japanese Excel)."""
    return read_ledger(data, filename, max_bytes=max_bytes, fmt="csv")


@register("xlsx")
def read_xlsx_ledger(data: bytes, filename: str, *, max_bytes: int) -> list[LedgerRow]:
    """The ledger as an Excel workbook: the sheet named "inventory", or else the first sheet."""
    return read_ledger(data, filename, max_bytes=max_bytes, fmt="xlsx")


def _read_limited(data: bytes | BinaryIO, filename: str, max_bytes: int) -> bytes:
    # From a stream, read at most one byte past the limit: enough to know it is too large.
    raw = data if isinstance(data, bytes) else data.read(max_bytes + 1)
    check_size(len(raw), filename, max_bytes)
    return raw


def _rows(records: Iterator[tuple[int, list[str]]], filename: str, collect: ErrorList | None = None) -> list[LedgerRow]:
    """Turn (line, cells) records, the first being the header, into ledger rows or one InputErrors."""
    first = next(records, None)
    if first is None:
        raise InputError("is empty; expected a header line naming the columns, e.g. system,purpose,cpe", file=filename)
    columns = _header(*first, filename)
    errors = collect if collect is not None else ErrorList(filename)
    rows: list[LedgerRow] = []
    try:
        for line, cells in records:
            row = _row(line, cells, columns, filename, errors)
            if row is not None:
                rows.append(row)
    except InputError as fatal:  # the file cannot be read past this point
        errors.add(fatal)
    if collect is None:
        errors.raise_if_any()
    return rows


def _header(line: int, cells: list[str], filename: str) -> dict[int, str]:
    """Map column positions to canonical column names; every problem with the header is fatal."""
    errors = ErrorList(filename)
    columns: dict[int, str] = {}
    seen: dict[str, int] = {}
    for position, heading in enumerate(cells, start=1):
        if not heading:
            continue
        column = _HEADINGS.get(heading_key(heading))
        if column is None:
            errors.add(_unknown_column(filename, line, position, heading))
        elif column in seen:
            errors.add(
                InputError(
                    f'columns {seen[column]} and {position} ("{heading}") both mean {column}; keep one of them',
                    file=filename,
                    line=line,
                    field=column,
                )
            )
        else:
            seen[column] = position
            columns[position - 1] = column
    for column in sorted(REQUIRED_COLUMNS - set(seen)):
        errors.add(
            InputError(
                f'has no "{column}" column; the header line must name it (e.g. {column} or システム名)',
                file=filename,
                line=line,
                field=column,
            )
        )
    errors.raise_if_any()
    return columns


def _unknown_column(filename: str, line: int, position: int, heading: str) -> InputError:
    return InputError(
        f'column {position} "{heading}" is not a ledger column; expected one of {", ".join(LEDGER_COLUMNS)} '
        "(Japanese headings such as システム名, 用途, 備考 are accepted too)",
        file=filename,
        line=line,
        field=heading,
    )


def _row(line: int, cells: list[str], columns: dict[int, str], filename: str, errors: ErrorList) -> LedgerRow | None:
    """One ledger row, or None for a blank row; bad values are added to ``errors``."""
    if not any(cells):
        return None
    values = dict.fromkeys(columns.values(), "")
    for position, value in enumerate(cells):
        column = columns.get(position)
        if column is not None:
            values[column] = value
        elif value:
            errors.add(
                InputError(
                    f"has a value in column {position + 1}, which has no heading; "
                    f'add a heading or remove "{value[:40]}"',
                    file=filename,
                    line=line,
                )
            )
            return None
    if not values["system"]:
        message = "system is empty; every row names the system it belongs to"
        errors.add(InputError(message, file=filename, line=line, field="system"))
        return None
    system = {column: value for column, value in values.items() if column not in COMPONENT_COLUMNS}
    component_values = {column: value for column, value in values.items() if column in COMPONENT_COLUMNS}
    if not any(component_values.values()):
        return LedgerRow(line=line, system=system)
    try:
        component = make_component(line=line, file=filename, **component_values)
    except InputError as error:
        errors.add(error)
        return None
    return LedgerRow(line=line, system=system, component=component)


def _cell(value: str) -> str:
    """A cell as the ledger means it: surrounding space removed, our formula neutralisation undone."""
    value = value.strip()
    return unneutralise(value).strip() if value.startswith("'") else value


# --- CSV ----------------------------------------------------------------------------------------------


def _csv_records(raw: bytes, filename: str) -> Iterator[tuple[int, list[str]]]:
    """(first line of the record, cleaned cells) for each non-blank CSV record."""
    if raw.startswith(b"PK\x03\x04"):
        raise InputError("is an Excel workbook, not CSV; upload it as .xlsx", file=filename)
    reader = csv.reader(io.StringIO(_decode_csv(raw, filename), newline=""))
    previous_end = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError(f"is not readable CSV: {exc}", file=filename, line=previous_end + 1) from exc
        start, previous_end = previous_end + 1, reader.line_num
        cleaned = [_cell(cell) for cell in cells]
        if any(cleaned):
            yield start, cleaned


def _decode_csv(raw: bytes, filename: str) -> str:
    """UTF-8 (with or without BOM), else Shift_JIS as Japanese Excel saves it (cp932)."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError('is UTF-16 text; save it as "CSV UTF-8 (comma delimited)"', file=filename, line=1)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp932")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            f"is neither UTF-8 nor Shift_JIS (cp932) text (byte 0x{raw[exc.start]:02x} on this line); "
            'save the file as "CSV UTF-8 (comma delimited)"',
            file=filename,
            line=line,
        ) from exc


# --- XLSX ---------------------------------------------------------------------------------------------


def _xlsx_records(raw: bytes, filename: str, max_bytes: int) -> Iterator[tuple[int, list[str]]]:
    """(spreadsheet row number, cleaned cells) for each non-blank row of the inventory sheet."""
    _check_zip(raw, filename, max_bytes)
    try:
        workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types on a damaged workbook
        raise _corrupt(filename, exc) from exc
    try:
        sheet = _inventory_sheet(workbook.worksheets, filename)
        sheet.reset_dimensions()  # some writers record a wrong size; read every row there is
        # types-openpyxl declares iter_rows for Worksheet only; ReadOnlyWorksheet shares the method.
        rows = list(sheet.iter_rows(min_row=1, values_only=True))  # type: ignore[misc]
    except InputError:
        raise
    except Exception as exc:
        raise _corrupt(filename, exc) from exc
    finally:
        workbook.close()
    for number, values in enumerate(rows, start=1):
        cleaned = [_cell(_xlsx_text(value)) for value in values]
        if any(cleaned):
            yield number, cleaned


def _check_zip(raw: bytes, filename: str, max_bytes: int) -> None:
    if raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(
            "is an old .xls workbook or a password-protected one; save it as an unprotected .xlsx", file=filename
        )
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            expanded = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(
            f"is not an XLSX workbook (not a readable zip archive: {exc}); save it from Excel as .xlsx", file=filename
        ) from exc
    if expanded > max_bytes:
        raise InputError(
            f"expands to {expanded:,} bytes when unpacked, over the {max_bytes:,}-byte limit; "
            "this looks like a zip bomb, or the workbook is too large for one import",
            file=filename,
        )


def _inventory_sheet(sheets: Sequence[object], filename: str) -> ReadOnlyWorksheet:
    worksheets = [sheet for sheet in sheets if isinstance(sheet, ReadOnlyWorksheet)]
    for sheet in worksheets:
        if sheet.title.casefold() == SHEET_NAME:
            return sheet
    if not worksheets:
        raise InputError("has no worksheet", file=filename)
    return worksheets[0]


def _corrupt(filename: str, exc: Exception) -> InputError:
    return InputError(
        f"is a damaged or unsupported XLSX workbook ({type(exc).__name__}: {exc}); open it in Excel and save it again",
        file=filename,
    )


def _xlsx_text(value: object) -> str:
    """A cell value as text: integers without ".0", dates as ISO 8601, booleans as true/false."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


# --- writing ------------------------------------------------------------------------------------------


def write_ledger(rows: Iterable[Mapping[str, str]], stream: BinaryIO, fmt: str) -> None:
    """Write rows (keyed by :data:`LEDGER_COLUMNS`; missing keys are empty) as CSV or XLSX.

    CSV is UTF-8 with a BOM so that Excel opens it correctly; XLSX has one sheet, "inventory". Every cell
    goes through :func:`neutralise`. XLSX cannot hold XML control characters; they are dropped.
    """
    if fmt == "csv":
        _write_csv(rows, stream)
    elif fmt == "xlsx":
        _write_xlsx(rows, stream)
    else:
        raise ValueError(f'ledger format must be "csv" or "xlsx", not "{fmt}"')


def _cells(row: Mapping[str, str], *, xml: bool = False) -> list[str]:
    """The row's cells in column order, neutralised (after dropping what XML cannot carry, for XLSX)."""
    unknown = set(row) - set(LEDGER_COLUMNS)
    if unknown:
        raise ValueError(f"not ledger columns: {', '.join(sorted(unknown))}")
    values = [str(row.get(column, "")) for column in LEDGER_COLUMNS]
    if xml:
        values = [_XML_ILLEGAL.sub("", value) for value in values]
    return [neutralise(value) for value in values]


def _write_csv(rows: Iterable[Mapping[str, str]], stream: BinaryIO) -> None:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="", write_through=True)
    try:
        writer = csv.writer(text)
        writer.writerow(LEDGER_COLUMNS)
        for row in rows:
            writer.writerow(_cells(row))
        text.flush()
    finally:
        text.detach()  # leave the caller's stream open


def _write_xlsx(rows: Iterable[Mapping[str, str]], stream: BinaryIO) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET_NAME)
    sheet.append(list(LEDGER_COLUMNS))
    for row in rows:
        sheet.append(_cells(row, xml=True))
    workbook.save(stream)


__all__ = [
    "FORMULA_TRIGGERS",
    "HEADER_ALIASES",
    "heading_key",
    "neutralise",
    "read_csv_ledger",
    "read_ledger",
    "read_xlsx_ledger",
    "unneutralise",
    "write_ledger",
]
