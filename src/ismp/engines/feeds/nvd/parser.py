"""Read NVD files — JSON 1.1 feeds and API 2.0 CVE pages — as a stream of VulnRecord, one per CVE.

Which of the two a file is, is decided by its content: a first pass reads the top-level keys up to the
record list (``CVE_Items`` or ``vulnerabilities``) and checks the format and its version; a second pass
streams the records with ijson's C backend, so memory stays flat whatever the file's size.

Records are yielded as they are read. When the file turns out to be truncated or corrupt part-way, the
InputError comes after the records before the damage; those records are valid, and whether to keep them
is the caller's decision (the vulns service imports a file all or nothing).
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import ijson  # type: ignore[import-untyped]

from ismp.engines.feeds.base import VulnRecord
from ismp.engines.feeds.files import LimitedReader, Limits, Refused, open_json
from ismp.engines.feeds.nvd.records import BadValue, from_api_cve, from_api_item, from_feed_item, kind, show
from ismp.errors import InputError

FEED_11 = "NVD JSON 1.1 feed"
API_20 = "NVD API 2.0 CVE page"
SINGLE_CVE = "NVD API 2.0 CVE record"
MAX_SINGLE_RECORD_BYTES = 64 << 20  # a single-record file is built in memory whole
_BUFFER = 1 << 16
_EXPECTED = (
    'expected an NVD JSON 1.1 feed ({"CVE_data_version": "4.0", "CVE_Items": […]}) or an NVD API 2.0 CVE page '
    '({"format": "NVD_CVE", "version": "2.0", "vulnerabilities": […]})'
)
_PAGE_KEYS = frozenset({"format", "version", "resultsPerPage", "startIndex", "totalResults", "timestamp"})
_SCALAR_EVENTS = frozenset({"string", "number", "boolean", "null"})
_STREAM_ERRORS = (ijson.JSONError, EOFError, zlib.error, gzip.BadGzipFile, zipfile.BadZipFile, Refused, UnicodeError)


def _backend() -> Any:
    """ijson's C backend (yajl2_c) when built, else the best one available."""
    try:
        return ijson.get_backend("yajl2_c")
    except ImportError:  # pragma: no cover - the wheels ship yajl2_c
        return ijson


_IJSON = _backend()


@dataclass(frozen=True, slots=True)
class ApiPage:
    """One response of the NVD CVE API 2.0 (``/rest/json/cves/2.0``)."""

    results_per_page: int
    start_index: int
    total_results: int
    timestamp: dt.datetime | None
    records: list[VulnRecord]


@dataclass(frozen=True, slots=True)
class _Layout:
    kind: str  # FEED_11, API_20 or SINGLE_CVE
    prefix: str  # ijson prefix of the records
    header: dict[str, object]  # the top-level scalar values read (format, version, counts, timestamp)


class NvdAdapter:
    """The "nvd" feed adapter: ``.json``, ``.json.gz`` or a one-file ``.zip``; JSON 1.1 or API 2.0."""

    name = "nvd"

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()

    def read(self, path: Path) -> Iterator[VulnRecord]:
        """Every CVE in the file, in file order (a CVE listed twice is yielded twice)."""
        return self._read(lambda: _open_file(path), path.name)

    def read_bytes(self, data: bytes, filename: str) -> Iterator[VulnRecord]:
        """Every CVE in an NVD document held in memory (plain, gzip or zip)."""
        return self._read(lambda: io.BytesIO(data), filename)

    def _read(self, open_raw: Callable[[], IO[bytes]], filename: str) -> Iterator[VulnRecord]:
        layout = _probe(open_raw, filename, self.limits)
        with open_json(open_raw, filename, self.limits) as reader:
            yield from _records(reader, layout, filename)


def parse_api_page(data: bytes, *, source: str = "NVD API response", limits: Limits | None = None) -> ApiPage:
    """One NVD CVE API 2.0 response body (plain or gzip) → its paging header and records.

    ``source`` names the response in error messages (e.g. the request URL)."""
    limits = limits or Limits()
    layout = _probe(lambda: io.BytesIO(data), source, limits, wanted=_PAGE_KEYS)
    if layout.kind != API_20:
        raise InputError(f"is an {layout.kind}, not an NVD API 2.0 CVE page", file=source)
    header = layout.header
    with open_json(lambda: io.BytesIO(data), source, limits) as reader:
        records = list(_records(reader, layout, source))
    return ApiPage(
        results_per_page=_count(header, "resultsPerPage", source),
        start_index=_count(header, "startIndex", source),
        total_results=_count(header, "totalResults", source),
        timestamp=_timestamp(header.get("timestamp"), source),
        records=records,
    )


# ------------------------------------------------------------------------------------- first pass


def _probe(
    open_raw: Callable[[], IO[bytes]], filename: str, limits: Limits, wanted: frozenset[str] = frozenset()
) -> _Layout:
    """Read the top-level keys up to the record list and decide what the document is."""
    with open_json(open_raw, filename, limits) as reader:
        try:
            scalars, containers = _top_level(_IJSON.parse(reader, use_float=True, buf_size=_BUFFER), filename, wanted)
        except _STREAM_ERRORS as exc:
            raise _stream_failure(exc, filename, 0, "", in_header=True) from exc
        layout = _layout(scalars, containers, filename)
        if layout.kind == SINGLE_CVE and reader.total > MAX_SINGLE_RECORD_BYTES:
            raise InputError(
                f"is a single {SINGLE_CVE} of {reader.total:,} bytes; refused (a record is at most "
                f"{MAX_SINGLE_RECORD_BYTES:,} bytes)",
                file=filename,
            )
        return layout


def _top_level(
    events: Iterator[tuple[str, str, Any]], filename: str, wanted: frozenset[str]
) -> tuple[dict[str, object], dict[str, str]]:
    """Scalar values and container kinds of the top-level keys; stops at the record list once the keys
    that decide the format (and ``wanted``) are known."""
    try:
        prefix, event, value = next(events)
    except ijson.IncompleteJSONError as exc:  # not even one JSON token
        if "premature EOF" not in str(exc):
            raise
        raise InputError(f"contains no JSON (it is empty or white space only); {_EXPECTED}", file=filename) from exc
    if event != "start_map":
        raise InputError(
            f"is JSON but not an NVD feed: the top level is {_event_kind(event)}; {_EXPECTED}", file=filename
        )
    scalars: dict[str, object] = {}
    containers: dict[str, str] = {}
    key = None
    for prefix, event, value in events:
        if not prefix:
            if event == "map_key":
                key = value
            elif event == "end_map":
                break
        elif prefix == key:
            if event in _SCALAR_EVENTS:
                scalars[key] = value
            elif event == "start_map" or event == "start_array":
                containers[key] = event
                if _decided(key, scalars, wanted):
                    break
    return scalars, containers


def _decided(key: str, scalars: dict[str, object], wanted: frozenset[str]) -> bool:
    if key == "CVE_Items":
        return "CVE_data_version" in scalars
    if key == "vulnerabilities":
        return "format" in scalars and "version" in scalars and wanted.issubset(scalars)
    return False


def _layout(scalars: dict[str, object], containers: dict[str, str], filename: str) -> _Layout:
    if "CVE_Items" in containers or "CVE_data_version" in scalars or scalars.get("CVE_data_type") == "CVE":
        version = scalars.get("CVE_data_version")
        if version != "4.0":
            found = "has no CVE_data_version" if version is None else f"has CVE_data_version {show(version)}"
            raise InputError(
                f'is an NVD JSON 1.1 feed but {found}; this reader supports "4.0" (the NVD 1.1 feeds\' format)',
                file=filename,
                field="CVE_data_version",
            )
        _need_list(containers, "CVE_Items", FEED_11, filename)
        return _Layout(FEED_11, "CVE_Items.item", scalars)
    if "vulnerabilities" in containers or "format" in scalars:
        fmt = scalars.get("format")
        if fmt != "NVD_CVE":
            found = "has no format" if fmt is None else f"is of format {show(fmt)}"
            raise InputError(
                f'is an NVD API response but {found}; this reader takes CVE pages (format "NVD_CVE", from '
                "/rest/json/cves/2.0), not CPE, match-criteria, history or source responses",
                file=filename,
                field="format",
            )
        version = scalars.get("version")
        if version != "2.0":
            found = "has no version" if version is None else f"has version {show(version)}"
            raise InputError(
                f'is an NVD API CVE page but {found}; this reader supports version "2.0"',
                file=filename,
                field="version",
            )
        _need_list(containers, "vulnerabilities", API_20, filename)
        return _Layout(API_20, "vulnerabilities.item", scalars)
    if type(scalars.get("id")) is str and ("vulnStatus" in scalars or "sourceIdentifier" in scalars):
        return _Layout(SINGLE_CVE, "", scalars)
    keys = sorted([*scalars, *containers])
    listed = ", ".join(f'"{k}"' for k in keys[:8]) + (", …" if len(keys) > 8 else "") if keys else "none"
    raise InputError(f"is JSON but not an NVD feed: its top-level keys are {listed}; {_EXPECTED}", file=filename)


def _need_list(containers: dict[str, str], key: str, what: str, filename: str) -> None:
    found = containers.get(key)
    if found != "start_array":
        problem = "has no" if found is None else "has an object, not a list, as"
        raise InputError(f'is an {what} but {problem} "{key}"', file=filename, field=key)


# ------------------------------------------------------------------------------------ second pass


def _records(reader: LimitedReader, layout: _Layout, filename: str) -> Iterator[VulnRecord]:
    convert: Callable[[object], VulnRecord]
    if layout.kind == FEED_11:
        convert = from_feed_item
    elif layout.kind == API_20:
        convert = from_api_item
    else:
        convert = _from_single
    items = _IJSON.items(reader, layout.prefix, use_float=True, buf_size=_BUFFER)
    number = 0
    last_id = ""
    while True:
        try:
            item = next(items)
        except StopIteration:
            return
        except _STREAM_ERRORS as exc:
            raise _stream_failure(exc, filename, number, last_id) from exc
        number += 1
        try:
            record = convert(item)
        except BadValue as bad:
            raise _record_failure(bad, filename, number) from None
        last_id = record.id
        yield record


def _from_single(cve: object) -> VulnRecord:
    return from_api_cve(cve, prefix="")


def _record_failure(bad: BadValue, filename: str, number: int) -> InputError:
    which = f"record {number} ({bad.cve_id})" if bad.cve_id else f"record {number}"
    return InputError(f"{which}: {bad.message}", file=filename, line=number, field=bad.field)


def _stream_failure(exc: Exception, filename: str, number: int, last_id: str, *, in_header: bool = False) -> InputError:
    """A damaged stream, said in words: truncated, corrupt, not JSON, or too large; and where."""
    if in_header:
        where, line = "before the first record", None
    else:
        where, line = f"in record {number + 1}", number + 1
        if number:
            where += f", after record {number} ({last_id}); the {number:,} records before it were read"
    if isinstance(exc, Refused):
        return InputError(str(exc), file=filename, line=line)
    if isinstance(exc, EOFError):
        return InputError(f"looks truncated: the compressed data ends {where} ({exc})", file=filename, line=line)
    if isinstance(exc, ijson.IncompleteJSONError) and "premature EOF" in str(exc):
        return InputError(f"looks truncated: the JSON ends {where}", file=filename, line=line)
    if isinstance(exc, zlib.error | gzip.BadGzipFile | zipfile.BadZipFile):
        return InputError(f"is corrupt ({exc}) {where}", file=filename, line=line)
    if isinstance(exc, UnicodeError):
        return InputError(f"is not UTF-8 text ({exc}) {where}", file=filename, line=line)
    reason = exc.args[0] if exc.args else ""
    text = (reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)).strip()
    detail = text.splitlines()[0] if text else type(exc).__name__
    if "trailing garbage" in detail:
        return InputError(f"has data after the end of its JSON document ({detail})", file=filename)
    return InputError(f"is not valid JSON ({detail}) {where}", file=filename, line=line)


def _event_kind(event: str) -> str:
    return {"start_array": "a list", "string": "a string", "number": "a number", "boolean": "true/false"}.get(
        event, "null"
    )


def _count(header: dict[str, object], key: str, source: str) -> int:
    value = header.get(key)
    if type(value) is not int or value < 0:
        problem = "is missing" if value is None else f"must be a whole number ≥ 0, not {kind(value)}"
        raise InputError(f"{key} {problem}", file=source, field=key)
    return value


def _timestamp(value: object, source: str) -> dt.datetime | None:
    if value is None:
        return None
    if type(value) is str:
        try:
            when = dt.datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)
    raise InputError(f"timestamp {show(value)} is not an ISO 8601 date and time", file=source, field="timestamp")


def _open_file(path: Path) -> IO[bytes]:
    try:
        return path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror or exc})", file=path.name) from exc
