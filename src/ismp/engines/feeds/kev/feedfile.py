"""Opening a feed file and reading its values, shared by the exploit-intelligence adapters.

``kev``, ``epss``, ``exploitdb`` and ``metasploit`` all read the same kinds of file: plain or gzip (told
apart by the gzip magic bytes, not the name), UTF-8 with or without a BOM, holding CSV or JSON. This
module is the one place that opens them, sniffs their first bytes, and turns what can go wrong while
reading (an empty file, a truncated gzip stream, bytes that are not UTF-8, JSON that ends early) into an
:class:`~ismp.errors.InputError` naming the file, the line or record, and what was expected.

It lives in ``kev/`` only because the four adapters were written together; it belongs in ``feeds/``
beside ``base.py`` once other adapters want it.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import gzip
import io
import json
import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import ijson  # type: ignore[import-untyped]

from ismp.errors import InputError

GZIP_MAGIC = b"\x1f\x8b"
HEAD_BYTES = 64 * 1024
# json.load reads a whole document into memory; no catalogue or module list comes near this.
MAX_DOCUMENT_BYTES = 256 * 1024 * 1024
MAX_LINE_BYTES = 1024 * 1024
_CVE_ID = re.compile(r"CVE-[0-9]{4}-[0-9]{4,19}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# What can go wrong while reading a (possibly gzip) stream: gzip.BadGzipFile is an OSError, a stream cut
# short raises EOFError, corrupt deflate data raises zlib.error.
READ_ERRORS = (OSError, EOFError, zlib.error, UnicodeDecodeError)


@dataclass(frozen=True, slots=True)
class FeedFile:
    """An open feed file: its name for messages, its first bytes for sniffing, and the whole content
    (decompressed, BOM removed) as a stream that starts at the beginning."""

    name: str
    head: bytes
    stream: BinaryIO

    @property
    def first_char(self) -> str:
        """The first character that is not white space (``""`` when the head is all white space)."""
        text = self.head.lstrip()[:1]
        return text.decode("latin-1")

    def lines(self, expected: str) -> TextLines:
        """The content as numbered lines of UTF-8 text, line endings kept (as the csv module wants)."""
        return TextLines(self, expected)


class TextLines:
    """The lines of a feed file as UTF-8 text; ``number`` is the 1-based number of the line last read.

    A line that is not UTF-8, longer than :data:`MAX_LINE_BYTES`, or cut short by a damaged gzip stream is
    an InputError naming that line.
    """

    def __init__(self, feed: FeedFile, expected: str) -> None:
        self._readline = feed.stream.readline
        self._file = feed.name
        self._expected = expected
        self.number = 0

    def __iter__(self) -> TextLines:
        return self

    def __next__(self) -> str:
        try:
            raw = self._readline(MAX_LINE_BYTES)
        except READ_ERRORS as exc:
            raise read_failure(exc, self._file, self.number + 1, self._expected) from exc
        if not raw:
            raise StopIteration
        self.number += 1
        if len(raw) == MAX_LINE_BYTES and not raw.endswith(b"\n"):
            raise InputError(
                f"has a line over {MAX_LINE_BYTES // (1024 * 1024)} MiB long; expected {self._expected}",
                file=self._file,
                line=self.number,
            )
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise read_failure(exc, self._file, self.number, self._expected) from exc


@contextmanager
def open_feed(path: Path, expected: str) -> Iterator[FeedFile]:
    """Open ``path`` (plain or gzip); InputError when it cannot be read or is empty.

    ``expected`` says what the file should be (``"the CISA KEV catalogue (JSON or CSV)"``); messages
    end with it so that a person who picked the wrong file sees which one was wanted.
    """
    name = path.name
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot be opened ({exc.strerror or exc}); expected {expected}", file=name) from exc
    with raw:
        decoded: BinaryIO = raw
        compressed = raw.read(2) == GZIP_MAGIC
        raw.seek(0)
        if compressed:
            decoded = gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[assignment]
        try:
            head = _read_up_to(decoded, HEAD_BYTES)
        except READ_ERRORS as exc:
            raise read_failure(exc, name, None, expected) from exc
        if head.startswith(codecs.BOM_UTF8):
            head = head[len(codecs.BOM_UTF8) :]
        if not head.strip():
            raise InputError(f"is empty; expected {expected}", file=name)
        if b"\x00" in head:
            raise InputError(
                f"is binary, not UTF-8 text (a zip archive, a file compressed twice, UTF-16?); expected {expected}",
                file=name,
            )
        stream = io.BufferedReader(_Rejoined(head, decoded), buffer_size=256 * 1024)
        try:
            yield FeedFile(name, head, stream)
        except InputError as error:
            # gzip checks its CRC only at the end: damaged data first shows as a bad row or bad JSON
            if compressed and not isinstance(error.__cause__, READ_ERRORS):
                damage = _gzip_damage(stream, name, error.location.line, expected)
                if damage is not None:
                    raise damage from error
            raise


def _gzip_damage(stream: BinaryIO, file: str, line: int | None, expected: str) -> InputError | None:
    """The InputError for a damaged gzip stream, found by reading it to its end; None when it is intact."""
    try:
        for _ in range(MAX_DOCUMENT_BYTES // HEAD_BYTES * 4):
            if not stream.read(HEAD_BYTES):
                break
    except READ_ERRORS as exc:
        return read_failure(exc, file, line, expected)
    return None


def _read_up_to(stream: BinaryIO, size: int) -> bytes:
    parts: list[bytes] = []
    remaining = size
    while remaining > 0:
        chunk = stream.read(remaining)
        if not chunk:
            break
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)


class _Rejoined(io.RawIOBase):
    """The bytes already read for sniffing, followed by the rest of the stream."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        super().__init__()
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._head:
            size = min(len(buffer), len(self._head))
            buffer[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def read_failure(exc: BaseException, file: str, line: int | None, expected: str) -> InputError:
    """The InputError for a stream that could not be read at ``line`` (decompression or decoding)."""
    if isinstance(exc, UnicodeDecodeError):
        at = f"byte {exc.start} of the line" if line is not None else f"byte {exc.start}"
        return InputError(f"is not UTF-8 text ({exc.reason} at {at}); expected {expected}", file=file, line=line)
    if isinstance(exc, EOFError):
        return InputError(
            f"is a gzip file that ends early (truncated download?); expected {expected}", file=file, line=line
        )
    if isinstance(exc, gzip.BadGzipFile | zlib.error):
        return InputError(f"is a damaged gzip file ({exc}); expected {expected}", file=file, line=line)
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return InputError(f"cannot be read ({reason}); expected {expected}", file=file, line=line)


# --- CSV ----------------------------------------------------------------------------------------------


def iter_csv(feed: FeedFile, expected: str, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """Stream the rows of a CSV file with a header row, each as ``(line, {column: value})``.

    ``line`` is the file line the record starts on (the header is line 1). The header must hold every
    ``required`` column (in any order; other columns are kept too); a row with a different number of
    fields than the header, or a row the csv module cannot read, is an InputError.
    """
    lines = feed.lines(expected)
    reader = csv.reader(lines)
    try:
        header = next(reader, None)
        columns = [name.strip() for name in header or ()]
        missing = [name for name in required if name not in columns]
        if missing:
            raise InputError(
                f"has no column {', '.join(missing)}; expected {expected}, whose header has {', '.join(required)}",
                file=feed.name,
                line=1,
                field=missing[0],
            )
        index = {name: number for number, name in reversed(list(enumerate(columns)))}  # first of a name wins
        end = lines.number
        for row in reader:
            start, end = end + 1, lines.number
            if not row:
                continue
            if len(row) != len(columns):
                raise InputError(
                    f"has {len(row)} fields but the header has {len(columns)} "
                    "(a stray comma or quote, or a cut-off line?)",
                    file=feed.name,
                    line=start,
                )
            yield start, {name: row[number] for name, number in index.items()}
    except csv.Error as exc:
        raise InputError(f"is not valid CSV ({exc}); expected {expected}", file=feed.name, line=lines.number) from exc


# --- JSON ---------------------------------------------------------------------------------------------


def load_json(feed: FeedFile, expected: str) -> object:
    """The whole file as one JSON document (for documents of a few MB: the KEV catalogue)."""
    try:
        data = feed.stream.read(MAX_DOCUMENT_BYTES + 1)
    except READ_ERRORS as exc:
        raise read_failure(exc, feed.name, None, expected) from exc
    if len(data) > MAX_DOCUMENT_BYTES:
        raise InputError(
            f"is over {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB of JSON; expected {expected}", file=feed.name
        )
    try:
        return json.loads(data)
    except UnicodeDecodeError as exc:
        raise read_failure(exc, feed.name, None, expected) from exc
    except json.JSONDecodeError as exc:
        document = exc.doc
        if not document[exc.pos :].strip() or not document.rstrip().endswith(("}", "]")):
            reason = "ends before the JSON document is complete (truncated?)"
        else:
            reason = f"is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        raise InputError(f"{reason}; expected {expected}", file=feed.name, line=exc.lineno) from exc


def iter_json(feed: FeedFile, prefix: str, expected: str, *, pairs: bool) -> Iterator[tuple[int, str, object]]:
    """Stream the members of the JSON array or object at ``prefix`` (``"item"`` / ``""``) with ijson.

    Yields ``(number, key, value)``: number counts from 1; key is the object key (``""`` for arrays).
    A document that breaks off is an InputError naming the last complete member.
    """
    number = 0
    try:
        if pairs:
            for key, value in ijson.kvitems(feed.stream, prefix, use_float=True):
                number += 1
                yield number, str(key), value
        else:
            for value in ijson.items(feed.stream, prefix, use_float=True):
                number += 1
                yield number, "", value
    except ijson.JSONError as exc:
        detail = str(exc).removeprefix("b'").replace("\\n", "\n").split("\n", 1)[0].strip()
        if "premature EOF" in detail:
            reason = "ends before the JSON document is complete (truncated?)"
        else:
            reason = f"is not valid JSON ({detail})"
        where = f" after entry {number}" if number else ""
        raise InputError(f"{reason}{where}; expected {expected}", file=feed.name, line=number + 1) from exc
    except READ_ERRORS as exc:
        raise read_failure(exc, feed.name, number + 1, expected) from exc


def json_kind(value: object) -> str:
    """How a message names a JSON value's type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    kinds: dict[type, str] = {dict: "an object", list: "an array", str: "text", int: "a number", float: "a number"}
    return kinds.get(type(value), type(value).__name__)


# --- values -------------------------------------------------------------------------------------------


def cve_id(value: object) -> str | None:
    """``value`` as a CVE id (white space removed, upper case), or None when it is not one."""
    if not isinstance(value, str):
        return None
    text = value.strip().upper()
    return text if _CVE_ID.fullmatch(text) else None


def cve_prefix(value: str) -> str | None:
    """The CVE id at the start of ``value`` when only punctuation or spaces follow it (``CVE-2017-7358&``)."""
    text = value.strip().upper()
    match = _CVE_ID.match(text)
    if match is None:
        return None
    rest = text[match.end() :]
    return match.group() if not any(char.isalnum() for char in rest) else None


def iso_date(value: object, *, file: str, line: int | None, field: str, label: str = "") -> dt.date | None:
    """A ``YYYY-MM-DD`` date; None for null or empty text; InputError for anything else."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    where = f"{label}: " if label else ""
    if isinstance(value, str):
        text = value.strip()
        if _ISO_DATE.fullmatch(text):
            try:
                return dt.date.fromisoformat(text)
            except ValueError as exc:
                raise InputError(
                    f'{where}{field} "{text}" is not a date ({exc})', file=file, line=line, field=field
                ) from exc
        shown = f'"{text[:40]}"'
    else:
        shown = json_kind(value)
    raise InputError(f"{where}{field} {shown} is not a date; expected YYYY-MM-DD", file=file, line=line, field=field)


def text_value(
    value: object, *, file: str, line: int | None, field: str, label: str = "", required: bool = False
) -> str:
    """A JSON text value, stripped; ``""`` for null or absent unless ``required``; InputError otherwise."""
    where = f"{label}: " if label else ""
    if value is None:
        if required:
            raise InputError(f"{where}{field} is missing", file=file, line=line, field=field)
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise InputError(f"{where}{field} must be text, not {json_kind(value)}", file=file, line=line, field=field)
