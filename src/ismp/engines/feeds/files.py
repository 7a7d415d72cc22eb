"""Feed files, read safely: the one layer every feed adapter opens its input through.

A feed arrives as a plain, gzip or zip file (told apart by their first bytes, not their names), a directory
tree of records, or a JSON Lines file. This module opens it, counts what it inflates, and turns what can
go wrong while reading (an empty file, a truncated gzip stream, bytes that are not UTF-8, JSON that ends
early, a bomb) into an :class:`~ismp.errors.InputError` naming the file, the line or record, and the field.

- **Limits.** :class:`Limits` holds every limit against hostile input: decompressed bytes in all, bytes
  of one record, the compression ratio, and the JSON nesting depth.
- **Opening.** :func:`open_inflating` is the one place a feed file on disk is opened (gzip inflated on
  the fly, told by content); :func:`open_binary` (``debian``), :func:`open_feed` (a text feed file: the
  exploit-intelligence adapters ``kev``, ``epss``, ``exploitdb``, ``metasploit``) and :func:`documents`
  (the records of a file, directory, JSON Lines file or zip archive: ``cve5``, ``osv``, ``debian``) build
  on it. :func:`open_json` opens a raw stream (plain, gzip or a one-member zip: ``nvd``, whose API pages
  arrive as bytes). Inflated data is counted against the limits: :class:`LimitedReader` (``nvd``, and
  gzip text feed files), :class:`CountingReader` and :func:`lines` (``debian``, ``cve5``, ``osv``), and
  a zip's directory is checked before anything is inflated.
- **Nesting.** :class:`DepthGuard` refuses JSON nested deeper than about ``Limits.max_depth`` levels
  before ijson sees it (ijson's memory grows with the square of the depth); :class:`DepthLimited`,
  :class:`LimitedReader`, :class:`CountingReader` (``json_stream=True``), :func:`iter_json` and
  :func:`load_json` apply it.
- **Reading.** :class:`TextLines`, :func:`lines`, :func:`iter_csv`, :func:`load_json`, :func:`iter_json`,
  :func:`decode_json`, :func:`decode_yaml`; typed values with :class:`Fields`, :func:`iso_date`,
  :func:`text_value` and friends.

Pure Python, no Django.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import gzip
import io
import json
import os
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, BinaryIO, Protocol

import ijson  # type: ignore[import-untyped]
import yaml

from ismp.errors import InputError

GIB = 1024**3
MIB = 1024**2
GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a zip with members; an empty zip (end record only)
# What can go wrong while reading a (possibly gzip) stream: gzip.BadGzipFile is an OSError, a stream cut
# short raises EOFError, corrupt deflate data raises zlib.error.
READ_ERRORS = (OSError, EOFError, zlib.error, UnicodeDecodeError)


# ------------------------------------------------------------------------------------------------------ limits


@dataclass(frozen=True, slots=True, init=False)
class Limits:
    """How much a feed file may hold before it is refused as hostile.

    ``max_bytes`` is accepted as another name for ``max_total_bytes`` (the NVD adapter's spelling).
    """

    max_total_bytes: int  # all decompressed data of one input (zip members, a gzip stream, one NVD file)
    max_document_bytes: int  # one record: a JSON/YAML file, a zip member or a JSON Lines line
    max_ratio: int  # decompressed / compressed size
    ratio_floor: int  # a gzip/zip NVD feed's ratio is checked once past this many bytes
    max_depth: int  # JSON nesting; NVD feeds nest 11 deep, CVE JSON 5 and OSV records about 10

    def __init__(
        self,
        *,
        max_total_bytes: int = 4 * GIB,
        max_document_bytes: int = 64 * MIB,
        max_ratio: int = 200,
        ratio_floor: int = 64 * MIB,
        max_depth: int = 64,
        max_bytes: int | None = None,
    ) -> None:
        object.__setattr__(self, "max_total_bytes", max_total_bytes if max_bytes is None else max_bytes)
        object.__setattr__(self, "max_document_bytes", max_document_bytes)
        object.__setattr__(self, "max_ratio", max_ratio)
        object.__setattr__(self, "ratio_floor", ratio_floor)
        object.__setattr__(self, "max_depth", max_depth)


LIMITS = Limits()


# ---------------------------------------------- opening: paths, raw streams, limited and depth-guarded readers


def _sniff(path: Path) -> bytes:
    try:
        with path.open("rb") as stream:
            return stream.read(4)
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror or exc})", file=str(path)) from None


def open_inflating(path: Path) -> gzip.GzipFile | io.BufferedReader:
    """``path`` opened for reading bytes, inflated on the fly when it is gzip (by content, not name);
    OSError when it cannot be opened. The one place a feed file on disk is opened."""
    raw = path.open("rb")
    try:
        compressed = raw.read(2) == GZIP_MAGIC
    except BaseException:
        raw.close()
        raise
    if not compressed:
        raw.seek(0)
        return raw
    raw.close()
    return gzip.open(path, "rb")


def open_binary(path: Path) -> gzip.GzipFile | io.BufferedReader:
    """:func:`open_inflating`, with an InputError naming the path when it cannot be opened."""
    try:
        return open_inflating(path)
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror or exc})", file=str(path)) from None


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class Refused(Exception):
    """Raised by a LimitedReader (too large, or nested too deeply); the parser turns it into an InputError."""


class LimitedReader:
    """A read-only byte stream that counts what it hands out and stops at the limits: more than
    ``limits.max_total_bytes``, or (when ``compressed_size`` is known) more than ``limits.max_ratio`` times
    that once past ``limits.ratio_floor``; and, unless ``nesting`` is None (a stream that is not JSON),
    JSON nested deeper than about ``limits.max_depth`` levels. Raises :class:`Refused`. ``source``,
    ``usual_ratio`` and ``nesting`` say in messages what real input is like."""

    def __init__(
        self,
        inner: Readable,
        *,
        compressed_size: int | None,
        limits: Limits,
        packing: str,
        source: str = "NVD feed",
        usual_ratio: str = "NVD feeds inflate 10 to 25 times",
        nesting: str | None = "NVD feeds nest 11 deep",
    ) -> None:
        self._inner = inner
        self._limits = limits
        self._packing = packing
        self._compressed = compressed_size
        self._source = source
        self._usual_ratio = usual_ratio
        self.total = 0  # bytes handed out so far
        self._depth = DepthGuard(limits.max_depth, nesting) if nesting is not None else None
        self._ceiling = limits.max_total_bytes
        if compressed_size is not None:
            self._ceiling = min(limits.max_total_bytes, max(limits.ratio_floor, compressed_size * limits.max_ratio))

    def read(self, size: int = -1) -> bytes:
        chunk = self._inner.read(size)
        self.total += len(chunk)
        if self.total > self._ceiling:
            raise Refused(self._refusal())
        if self._depth is not None:
            self._depth.feed(chunk)
        return chunk

    def _refusal(self) -> str:
        if self._compressed is None:
            return f"is larger than {_size(self._limits.max_total_bytes)}; refused — no {self._source} is that large"
        if self.total > self._limits.max_total_bytes:
            return (
                f"inflates to more than {_size(self._limits.max_total_bytes)} ({self._packing}); refused as a possible "
                f"decompression bomb — no {self._source} is that large"
            )
        return (
            f"inflates more than {self._limits.max_ratio} times ({self._packing}, {_size(self._compressed)} "
            f"compressed, already {_size(self.total)} inflated); refused as a possible decompression bomb — "
            f"{self._usual_ratio}"
        )


class DepthGuard:
    """Refuses JSON nested deeper than about ``limit`` levels, before the parser sees it.

    ijson keeps the path of every open array and object as a string, so its memory grows with the square
    of the nesting depth: 20,000 nested ``[`` cost it 1 GB. This watches the bytes as they stream past,
    mostly at C speed: escape sequences are dropped (a Python loop runs once per backslash, and NVD has a
    few per 64 KiB), then every byte but quotes and brackets; brackets inside strings are skipped by quote
    parity, carried from chunk to chunk; matched pairs are removed pass by pass (a pass takes off one or
    two levels), and the brackets left over move the depth. Refused: a chunk whose pairs still nest after
    ``limit // 2`` passes, or a running depth above ``limit``; so nesting up to ``limit // 2`` always
    passes and nesting beyond ``2 * limit`` never does.
    """

    _KEEP_QUOTES_BRACKETS = bytes(b for b in range(256) if b not in b'"[]{}')

    def __init__(self, limit: int, usual: str = "feeds nest about 10 deep") -> None:
        self.limit = limit
        self.usual = usual  # how deep the expected input nests, for the message
        self.depth = 0
        self._in_string = False
        self._backslash = b""  # a backslash that ended the last chunk and escapes the next one's first byte

    def feed(self, chunk: bytes) -> None:
        text = self._backslash + chunk if self._backslash else chunk
        self._backslash = b""
        if b"\\" in text:
            text = self._drop_escapes(text)
        # Two adjacent quotes are an empty string or the end of one and the start of the next: dropping
        # them keeps every bracket on its side of the quotes.
        text = text.translate(None, self._KEEP_QUOTES_BRACKETS).replace(b'""', b"")
        if b'"' in text:
            parts = text.split(b'"')
            text = b"".join(parts[1::2] if self._in_string else parts[::2])
            self._in_string ^= len(parts) % 2 == 0
        elif self._in_string:
            return
        for _ in range(self.limit // 2):  # a pass removes one or two levels: "[{…}]" → "[]" → ""
            reduced = text.replace(b"[]", b"").replace(b"{}", b"")
            if len(reduced) == len(text):
                break
            text = reduced
        else:
            if b"[]" in text or b"{}" in text:
                raise Refused(self._refusal())
        closing = text.count(b"]") + text.count(b"}")
        self.depth += len(text) - 2 * closing
        if self.depth > self.limit:
            raise Refused(self._refusal())

    def _drop_escapes(self, text: bytes) -> bytes:
        """Remove every escape sequence (backslash and the byte after it), so no escaped quote is left."""
        parts = text.split(b"\\")
        if len(parts) > 4096:  # many backslashes: C-speed replaces (escaped backslashes first), no loop
            if text.endswith(b"\\") and (len(text) - len(text.rstrip(b"\\"))) % 2:
                self._backslash, text = b"\\", text[:-1]
            return text.replace(b"\\\\", b"").replace(b'\\"', b"")
        kept = [parts[0]]
        pending = False  # the last backslash escapes the next one
        for part in parts[1:]:
            if pending:  # this backslash is itself escaped
                kept.append(part)
                pending = False
            elif part:
                kept.append(part[1:])
            else:
                pending = True
        if pending:
            self._backslash = b"\\"
        return b"".join(kept)

    def _refusal(self) -> str:
        return (
            f"nests JSON arrays and objects more than about {self.limit} levels deep; refused ({self.usual}, "
            "and deep nesting makes the streaming parser's memory grow with the square of the depth)"
        )


class DepthLimited:
    """A byte stream passed through a :class:`DepthGuard` on its way to ijson: raises :class:`Refused`
    as soon as the JSON nests deeper than about ``limit`` levels."""

    def __init__(self, inner: Readable, limit: int, usual: str = "feeds nest about 10 deep") -> None:
        self._inner = inner
        self.guard = DepthGuard(limit, usual)

    def read(self, size: int = -1) -> bytes:
        chunk = self._inner.read(size)
        self.guard.feed(chunk)
        return chunk


@contextmanager
def open_json(open_raw: Callable[[], IO[bytes]], filename: str, limits: Limits) -> Iterator[LimitedReader]:
    """The JSON bytes inside a raw stream (plain, gzip or a one-member zip), limited."""
    with open_raw() as raw:
        magic = raw.read(4)
        raw.seek(0)
        if not magic:
            raise InputError("is empty; expected an NVD JSON 1.1 feed or an NVD API 2.0 CVE page", file=filename)
        if magic[:2] == GZIP_MAGIC:
            size = raw.seek(0, io.SEEK_END)
            raw.seek(0)
            with gzip.GzipFile(fileobj=raw, mode="rb") as inflated:
                yield LimitedReader(inflated, compressed_size=size, limits=limits, packing="gzip")
        elif magic in ZIP_MAGICS:
            with _open_zip(raw, filename) as zipped, _only_member(zipped, filename, limits) as (member, info):
                yield LimitedReader(member, compressed_size=info.compress_size, limits=limits, packing="zip")
        else:
            yield LimitedReader(raw, compressed_size=None, limits=limits, packing="plain JSON")


@contextmanager
def _open_zip(raw: IO[bytes], filename: str) -> Iterator[zipfile.ZipFile]:
    try:
        zipped = zipfile.ZipFile(raw)
    except zipfile.BadZipFile as exc:
        raise InputError(f"is not a readable zip archive ({exc}); it may be truncated", file=filename) from exc
    with zipped:
        yield zipped


@contextmanager
def _only_member(zipped: zipfile.ZipFile, filename: str, limits: Limits) -> Iterator[tuple[IO[bytes], zipfile.ZipInfo]]:
    members = [info for info in zipped.infolist() if not info.is_dir()]
    if len(members) != 1:
        names = ", ".join(info.filename for info in members[:5]) + (", …" if len(members) > 5 else "")
        found = "no file" if not members else f"{len(members)} files ({names})"
        raise InputError(f"is a zip archive with {found}; expected exactly one NVD .json file", file=filename)
    info = members[0]
    if info.flag_bits & 0x1:
        raise InputError(f"holds {info.filename}, encrypted; expected an unencrypted NVD .json file", file=filename)
    ceiling = min(limits.max_total_bytes, max(limits.ratio_floor, info.compress_size * limits.max_ratio))
    if info.file_size > ceiling:
        raise InputError(
            f"holds {info.filename}, which declares {_size(info.file_size)} inflated from "
            f"{_size(info.compress_size)}; refused as a possible "
            f"zip bomb (limits: {_size(limits.max_total_bytes)}, and {limits.max_ratio} times the compressed size)",
            file=filename,
        )
    try:
        member = zipped.open(info)
    except (zipfile.BadZipFile, NotImplementedError) as exc:
        raise InputError(f"holds {info.filename}, which cannot be opened ({exc})", file=filename) from exc
    with member:
        yield member, info


def _size(count: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if count >= 1 << shift:
            return f"{count / (1 << shift):.1f} {unit}"
    return f"{count} bytes"


# ---------------------------------------------------------- text feed files (kev, epss, exploitdb, metasploit)

HEAD_BYTES = 64 * 1024
# json.load reads a whole document into memory; no catalogue or module list comes near this.
MAX_DOCUMENT_BYTES = 256 * 1024 * 1024
MAX_LINE_BYTES = 1024 * 1024
_CVE_ID = re.compile(r"CVE-[0-9]{4}-[0-9]{4,19}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


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
        opened = open_inflating(path)
    except OSError as exc:
        raise InputError(f"cannot be opened ({exc.strerror or exc}); expected {expected}", file=name) from exc
    with opened:
        decoded: BinaryIO = opened  # type: ignore[assignment]
        compressed = isinstance(opened, gzip.GzipFile)
        if compressed:
            decoded = _Bounded(opened, path.stat().st_size, name, expected)  # type: ignore[assignment]
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
            if compressed and not isinstance(error.__cause__, (*READ_ERRORS, Refused)):
                damage = _gzip_damage(stream, name, error.location.line, expected)
                if damage is not None:
                    raise damage from error
            raise


class _Bounded:
    """A gzip stream of a text feed file, refused (InputError) once it inflates past :data:`LIMITS`."""

    def __init__(self, inflated: Readable, compressed_size: int, file: str, expected: str) -> None:
        self._reader = LimitedReader(
            inflated,
            compressed_size=compressed_size,
            limits=LIMITS,
            packing="gzip",
            source="feed file",
            usual_ratio="real feed files inflate far less",
            nesting=None,  # iter_json and load_json guard the nesting
        )
        self._file = file
        self._expected = expected

    def read(self, size: int = -1) -> bytes:
        try:
            return self._reader.read(size)
        except Refused as exc:
            raise InputError(f"{exc}; expected {self._expected}", file=self._file) from exc


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


# --------------------------------------------------------------------------------------- CSV (text feed files)


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


# -------------------------------------------------------------------------------------- JSON (text feed files)


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
        DepthGuard(LIMITS.max_depth).feed(data)
    except Refused as exc:
        raise InputError(f"{exc}; expected {expected}", file=feed.name) from exc
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
    A document that breaks off is an InputError naming the last complete member; so is one nested deeper
    than ``LIMITS.max_depth`` (refused by :class:`DepthGuard` before ijson sees it).
    """
    number = 0
    stream = DepthLimited(feed.stream, LIMITS.max_depth)
    try:
        if pairs:
            for key, value in ijson.kvitems(stream, prefix, use_float=True):
                number += 1
                yield number, str(key), value
        else:
            for value in ijson.items(stream, prefix, use_float=True):
                number += 1
                yield number, "", value
    except Refused as exc:
        raise InputError(f"{exc}; expected {expected}", file=feed.name, line=number + 1) from exc
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


# ----------------------------------- records (cve5, osv, debian): files, directories, JSON Lines, zip archives

MAX_BLANK_LINES = 10_000  # in a row: a feed has none; a stream of newlines is a cheap way to waste time
_JSON_LINES_SUFFIXES = (".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")


@dataclass(frozen=True, slots=True)
class Where:
    """Where a record is: the file (``archive.zip!member`` inside a zip) and its line, if it has one."""

    file: str
    line: int | None = None

    def error(self, message: str, field: str = "") -> InputError:
        return InputError(message, file=self.file, line=self.line, field=field)


@dataclass(frozen=True, slots=True)
class Document:
    """The bytes of one record as they came, and where they came from."""

    where: Where
    data: bytes


def documents(
    path: Path,
    *,
    member: Callable[[str], bool],
    what: str,
    limits: Limits = LIMITS,
) -> Iterator[Document]:
    """The records in ``path``: a file, a directory tree, a JSON Lines file (``.jsonl``/``.jsonl.gz``)
    or a zip archive. In a directory or zip, only files whose name ``member`` accepts are read, in
    sorted path order. ``what`` names the records in messages ("CVE JSON 5 records")."""
    if path.is_dir():
        found = _directory(path, member, limits)
    elif not path.exists():
        raise InputError("no such file or directory", file=str(path))
    elif not path.is_file():
        raise InputError("is not a regular file or a directory", file=str(path))
    elif _sniff(path) in ZIP_MAGICS or path.name.lower().endswith(".zip"):
        found = _zip(path, member, limits)
    elif path.name.lower().endswith(_JSON_LINES_SUFFIXES):
        found = _non_blank(json_lines(path, limits))
    else:
        found = iter((_whole_file(path, limits),))
    empty = True
    for document in found:
        empty = False
        yield document
    if empty:
        raise InputError(f"holds no {what}", file=str(path))


def lines(path: Path, limits: Limits = LIMITS) -> Iterator[tuple[int, bytes]]:
    """(line number, line) for each line of a text file, plain or gzip: each line at most
    ``limits.max_document_bytes`` long; all lines at most ``limits.max_total_bytes``, and, when gzip, at
    most ``limits.max_ratio`` times the file's size on disk (real feeds inflate 5 to 20 times)."""
    name = str(path)
    number = blank = total = 0
    with open_binary(path) as stream:
        ceiling = limits.max_total_bytes
        if isinstance(stream, gzip.GzipFile):
            ceiling = min(ceiling, max(limits.max_ratio * path.stat().st_size, MIB))
        while True:
            try:
                line = stream.readline(limits.max_document_bytes + 1)
            except (EOFError, OSError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
                raise InputError(
                    f"the compressed data is truncated or corrupt after line {number} ({exc})",
                    file=name,
                    line=number + 1,
                ) from None
            if not line:
                return
            number += 1
            total += len(line)
            if len(line) > limits.max_document_bytes:
                raise InputError(
                    f"the line is longer than {limits.max_document_bytes:,} bytes; refused as hostile",
                    file=name,
                    line=number,
                )
            if total > ceiling:
                raise InputError(
                    f"inflates to more than {ceiling:,} bytes; refused as a possible decompression bomb",
                    file=name,
                    line=number,
                )
            blank = blank + 1 if line.isspace() else 0
            if blank > MAX_BLANK_LINES:
                raise InputError(
                    f"has more than {MAX_BLANK_LINES:,} blank lines in a row; refused as hostile",
                    file=name,
                    line=number,
                )
            yield number, line


def json_lines(path: Path, limits: Limits = LIMITS) -> Iterator[Document]:
    """One document per line of a JSON Lines file (blank lines included, as empty documents)."""
    name = str(path)
    for number, line in lines(path, limits):
        yield Document(Where(name, number), line)


def _non_blank(found: Iterator[Document]) -> Iterator[Document]:
    return (document for document in found if document.data.strip())


def _whole_file(path: Path, limits: Limits) -> Document:
    """A file holding one record (gzip allowed), read whole up to ``max_document_bytes``."""
    name = str(path)
    try:
        with open_binary(path) as stream:
            data = stream.read(limits.max_document_bytes + 1)
    except (EOFError, OSError, zlib.error) as exc:
        raise InputError(f"the compressed data is truncated or corrupt ({exc})", file=name) from None
    if len(data) > limits.max_document_bytes:
        raise InputError(
            f"is larger than {limits.max_document_bytes:,} bytes, too large for one record; refused", file=name
        )
    if not data.strip():
        raise InputError("is empty", file=name)
    return Document(Where(name), data)


def _directory(root: Path, member: Callable[[str], bool], limits: Limits) -> Iterator[Document]:
    """Files under ``root`` that ``member`` accepts, directories and files in sorted order; hidden
    directories (``.git``) are skipped and symbolic links to directories are not followed."""
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = sorted(d for d in subdirectories if not d.startswith("."))
        for name in sorted(files):
            if member(name):
                path = Path(directory, name)
                if path.is_file():
                    yield _whole_file(path, limits)


def _zip(path: Path, member: Callable[[str], bool], limits: Limits) -> Iterator[Document]:
    name = str(path)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(f"is not a readable zip archive ({exc})", file=name) from None
    with archive:
        chosen = [
            info for info in archive.infolist() if not info.is_dir() and member(PurePosixPath(info.filename).name)
        ]
        chosen.sort(key=lambda info: tuple(info.filename.split("/")))
        nested = [info.filename for info in archive.infolist() if info.filename.lower().endswith(".zip")]
        if not chosen and nested:
            raise InputError(
                f"holds another zip ({nested[0]}) rather than records; unzip the outer archive and give the inner "
                "one (cvelistV5 release assets are a zip of a zip)",
                file=name,
            )
        _check_zip_sizes(name, chosen, limits)
        for info in chosen:
            where = Where(f"{name}!{info.filename}")
            try:
                with archive.open(info) as stream:
                    data = stream.read(limits.max_document_bytes + 1)
            except (zipfile.BadZipFile, EOFError, OSError, zlib.error, NotImplementedError, RuntimeError) as exc:
                raise where.error(f"cannot be extracted ({exc})") from None
            if not data.strip():
                raise where.error("is empty")
            yield Document(where, data)


def _check_zip_sizes(name: str, members: list[zipfile.ZipInfo], limits: Limits) -> None:
    """Refuse a zip bomb from its central directory, before inflating anything. (Python stops
    inflating a member at its declared size, so a directory that lies cannot cost more than this.)"""
    total = 0
    for info in members:
        where = Where(f"{name}!{info.filename}")
        if info.flag_bits & 0x1:
            raise where.error("is encrypted; feed archives are not")
        if info.file_size > limits.max_document_bytes:
            raise where.error(
                f"is {info.file_size:,} bytes uncompressed, more than {limits.max_document_bytes:,} for one "
                "record; refused as a possible zip bomb"
            )
        if info.file_size > MIB and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise where.error(
                f"inflates {info.file_size // max(info.compress_size, 1):,} times "
                f"({info.compress_size:,} → {info.file_size:,} bytes); refused as a possible zip bomb"
            )
        total += info.file_size
    if total > limits.max_total_bytes:
        raise InputError(
            f"its members add up to {total:,} bytes uncompressed, more than {limits.max_total_bytes:,}; "
            "refused as a possible zip bomb",
            file=name,
        )


class CountingReader:
    """A binary stream that refuses to yield more than ``limits.max_total_bytes`` in all, or more than
    ``limits.max_document_bytes`` between two ``mark()`` calls (one item of a streamed document); with
    ``json_stream=True`` (a stream for ijson), JSON nested deeper than about ``limits.max_depth`` levels too."""

    def __init__(
        self,
        stream: gzip.GzipFile | io.BufferedReader,
        name: str,
        limits: Limits = LIMITS,
        *,
        json_stream: bool = False,
    ) -> None:
        self.stream = stream
        self.name = name
        self.limits = limits
        self.total = 0
        self.since_mark = 0
        self._depth = DepthGuard(limits.max_depth) if json_stream else None

    def mark(self) -> None:
        self.since_mark = 0

    def read(self, size: int = -1) -> bytes:
        try:
            data = self.stream.read(size if size >= 0 else 64 * 1024)
        except (EOFError, OSError, zlib.error) as exc:
            raise InputError(f"the compressed data is truncated or corrupt ({exc})", file=self.name) from None
        self.total += len(data)
        self.since_mark += len(data)
        if self.total > self.limits.max_total_bytes:
            raise InputError(
                f"holds more than {self.limits.max_total_bytes:,} bytes; refused as a possible decompression bomb",
                file=self.name,
            )
        if self.since_mark > self.limits.max_document_bytes:
            raise InputError(
                f"one entry is larger than {self.limits.max_document_bytes:,} bytes; refused as hostile",
                file=self.name,
            )
        if self._depth is not None:
            try:
                self._depth.feed(data)
            except Refused as exc:
                raise InputError(str(exc), file=self.name) from None
        return data


# -------------------------------------------------------------------------------------------- decoding records


def decode_json(document: Document) -> object:
    """The JSON value of one document; InputError naming the line and column when it is not JSON."""
    where = document.where
    try:
        return json.loads(document.data)
    except json.JSONDecodeError as exc:
        truncated = exc.pos >= len(document.data.rstrip()) - 1
        hint = " (the record ends early: truncated?)" if truncated else ""
        if where.line is None:
            raise InputError(
                f"is not valid JSON: {exc.msg} at column {exc.colno}{hint}", file=where.file, line=exc.lineno
            ) from None
        raise where.error(f"is not valid JSON: {exc.msg} at column {exc.colno}{hint}") from None
    except UnicodeDecodeError as exc:
        raise where.error(f"is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except (ValueError, RecursionError) as exc:  # e.g. an integer of 5,000 digits, nesting 100,000 deep
        raise where.error(f"is not JSON that can be read safely ({type(exc).__name__}: {exc})") from None


_YAML_PARSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # for yaml.parse: events only, no objects


def decode_yaml(document: Document) -> object:
    """The value of one YAML document, with ``yaml.safe_load``: tags naming Python objects are refused,
    and so are aliases (``*name``), which no feed needs and which can multiply a small file."""
    where = document.where
    try:
        text = document.data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise where.error(f"is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        for event in yaml.parse(text, Loader=_YAML_PARSER):
            if isinstance(event, yaml.AliasEvent):
                raise InputError(
                    f"uses a YAML alias (*{event.anchor}); aliases are refused (they can expand a small file "
                    "enormously)",
                    file=where.file,
                    line=event.start_mark.line + 1 if event.start_mark else where.line,
                )
        return yaml.safe_load(text)
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        raise InputError(
            f"uses a YAML tag that is not plain data ({exc.problem}); only plain YAML is read, never objects",
            file=where.file,
            line=mark.line + 1 if mark else where.line,
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise InputError(
            f"is not valid YAML: {exc.problem or exc.context}",
            file=where.file,
            line=mark.line + 1 if mark else where.line,
        ) from None
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        raise where.error(f"is not valid YAML ({exc})") from None


# ------------------------------------------------------------------------------------- typed reading (records)


def kind(value: object) -> str:
    """A JSON type name for messages: "a string", "a number", "a list" …"""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class Fields:
    """Typed reads from one JSON (or YAML) object. A missing or null field reads as empty; a field of
    the wrong type raises InputError naming the file, the line and the field's path
    ("containers.cna.affected[2].versions[0].lessThan"), which is only spelled out for an error."""

    __slots__ = ("_index", "_key", "_parent", "data", "where")

    def __init__(
        self, data: dict[str, object], where: Where, parent: Fields | None = None, key: str = "", index: int = -1
    ) -> None:
        self.data = data
        self.where = where
        self._parent = parent
        self._key = key
        self._index = index

    @classmethod
    def root(cls, value: object, where: Where, what: str) -> Fields:
        if not isinstance(value, dict):
            raise where.error(f"is not {what}: the top level is {kind(value)}, not an object")
        return cls(value, where)

    @property
    def path(self) -> str:
        """This object's path from the record's top level, "" for the top level itself."""
        if self._parent is None:
            return ""
        path = self._parent.field(self._key)
        return f"{path}[{self._index}]" if self._index >= 0 else path

    def field(self, key: str) -> str:
        path = self.path
        return f"{path}.{key}" if path else key

    def error(self, key: str, message: str) -> InputError:
        return self.where.error(message, self.field(key))

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def text(self, key: str, default: str = "") -> str:
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, str):
            return value
        raise self.error(key, f"expected a string, found {kind(value)}")

    def required_text(self, key: str) -> str:
        value = self.text(key)
        if not value:
            raise self.error(key, "is missing or empty")
        return value

    def number(self, key: str) -> float | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise self.error(key, f"expected a number, found {kind(value)}")

    def obj(self, key: str) -> Fields:
        """The object at ``key`` (empty when missing)."""
        value = self.data.get(key)
        if value is None:
            return Fields({}, self.where, self, key)
        if isinstance(value, dict):
            return Fields(value, self.where, self, key)
        raise self.error(key, f"expected an object, found {kind(value)}")

    def items(self, key: str) -> list[object]:
        """The list at ``key`` (empty when missing)."""
        value = self.data.get(key)
        if value is None:
            return []
        if isinstance(value, list):
            return value
        raise self.error(key, f"expected a list, found {kind(value)}")

    def objects(self, key: str) -> Iterator[Fields]:
        """Each object of the list at ``key``."""
        where = self.where
        for index, value in enumerate(self.items(key)):
            if not isinstance(value, dict):
                raise where.error(f"expected an object, found {kind(value)}", f"{self.field(key)}[{index}]")
            yield Fields(value, where, self, key, index)

    def texts(self, key: str) -> list[str]:
        """Each string of the list at ``key``."""
        found: list[str] = []
        for index, value in enumerate(self.items(key)):
            if not isinstance(value, str):
                raise self.where.error(f"expected a string, found {kind(value)}", f"{self.field(key)}[{index}]")
            found.append(value)
        return found

    def timestamp(self, key: str) -> dt.datetime | None:
        """An ISO 8601 timestamp (a YAML timestamp too); naive times are taken as UTC."""
        value = self.data.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, dt.datetime):
            moment = value
        elif isinstance(value, dt.date):
            moment = dt.datetime(value.year, value.month, value.day)
        elif isinstance(value, str):
            try:
                moment = dt.datetime.fromisoformat(value.strip())
            except ValueError:
                raise self.error(key, f"{value[:40]!r} is not an ISO 8601 date and time") from None
        else:
            raise self.error(key, f"expected a date and time, found {kind(value)}")
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}")


def language(tag: str) -> str:
    """The primary language of a BCP 47 tag, lower case: "en-US" → "en", "" → "en"."""
    match = _LANGUAGE.match(tag)
    return match.group(0).lower() if match else "en"


# ------------------------------------------------------------------------------------ values (text feed files)


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
