"""Feed files → raw documents, safely: the layer the cve5, osv and debian adapters share.

A feed arrives as one file, a directory tree of files, a JSON Lines file (plain or gzip), or a zip
archive. ``documents(path, …)`` turns any of these into ``Document`` values (the bytes of one record and
where they came from), one at a time, so a feed of any size is read in bounded memory. ``decode_json``
and ``decode_yaml`` turn a document into plain Python values, and ``Fields`` reads those values with
types checked, every error naming the file, the line (or record) and the field's path.

Hostile input is refused with an ``InputError`` before it costs much: a zip member larger than
``Limits.max_document_bytes``, members adding up to more than ``Limits.max_total_bytes`` (4 GiB) or
compressed more than ``Limits.max_ratio`` times (zip bombs) are refused from the zip's directory, before
anything is inflated; a gzip stream is counted as it inflates; a line longer than
``max_document_bytes`` is refused without being held whole; YAML aliases (``*name``, the "billion
laughs") and tags that name Python objects are refused.

(Used by ``ismp.engines.feeds.osv`` and ``ismp.engines.feeds.debian`` too; it belongs one level up, in
``ismp.engines.feeds``, where the other adapters can share it.)
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import os
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import yaml

from ismp.errors import InputError

GIB = 1024**3
MIB = 1024**2
_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
MAX_BLANK_LINES = 10_000  # in a row: a feed has none; a stream of newlines is a cheap way to waste time
_JSON_LINES_SUFFIXES = (".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")


@dataclass(frozen=True, slots=True)
class Limits:
    """How much a feed file may hold before it is refused as hostile."""

    max_total_bytes: int = 4 * GIB  # all decompressed data of one input (zip members, a gzip stream)
    max_document_bytes: int = 64 * MIB  # one record: a JSON/YAML file, a zip member or a JSON Lines line
    max_ratio: int = 200  # a zip member's uncompressed/compressed size, checked above 1 MiB


LIMITS = Limits()


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


# ------------------------------------------------------------------------------------------ inputs


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
    elif _sniff(path) in _ZIP_MAGIC or path.name.lower().endswith(".zip"):
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


def _sniff(path: Path) -> bytes:
    try:
        with path.open("rb") as stream:
            return stream.read(4)
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror or exc})", file=str(path)) from None


def open_binary(path: Path) -> gzip.GzipFile | io.BufferedReader:
    """``path`` opened for reading bytes, inflated on the fly when it is gzip (by content, not name)."""
    try:
        if _sniff(path)[:2] == _GZIP_MAGIC:
            return gzip.open(path, "rb")
        return path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror or exc})", file=str(path)) from None


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
    """A binary stream that refuses to yield more than ``limit`` bytes in all, or more than
    ``per_item`` bytes between two ``mark()`` calls (one item of a streamed document)."""

    def __init__(self, stream: gzip.GzipFile | io.BufferedReader, name: str, limits: Limits = LIMITS) -> None:
        self.stream = stream
        self.name = name
        self.limits = limits
        self.total = 0
        self.since_mark = 0

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
        return data


# ----------------------------------------------------------------------------------------- decoding


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


# ---------------------------------------------------------------------------------- typed reading


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
