"""Open an NVD file as one stream of JSON bytes, whatever it is packed in, with limits against bombs.

The packing is recognised by the first bytes, not the name: gzip (``1f 8b``), zip (``PK``) holding exactly
one file, or plain JSON. Decompressed data is streamed, never held whole, and counted: more than
``Limits.max_bytes`` (4 GiB), or more than ``Limits.max_ratio`` times the compressed size once past
``Limits.ratio_floor`` bytes, is refused (a real NVD feed inflates about 10 to 25 times; a bomb of zeros
or spaces about 1,000 times). A zip member's declared size is checked before it is opened, and zipfile
never inflates past the declared size. JSON nested deeper than ``Limits.max_depth`` is refused by
:class:`DepthGuard` before the parser sees it.
"""

from __future__ import annotations

import gzip
import io
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Protocol

from ismp.errors import InputError

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a zip with members; an empty zip (end record only)


@dataclass(frozen=True, slots=True)
class Limits:
    max_bytes: int = 4 << 30  # decompressed bytes of one file
    max_ratio: int = 200  # decompressed / compressed, checked once past ratio_floor
    ratio_floor: int = 64 << 20
    max_depth: int = 64  # JSON nesting; NVD feeds nest 11 deep


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class Refused(Exception):
    """Raised by a LimitedReader (too large, or nested too deeply); the parser turns it into an InputError."""


class LimitedReader:
    """A read-only byte stream that counts what it hands out and stops at the limits."""

    def __init__(self, inner: Readable, *, compressed_size: int | None, limits: Limits, packing: str) -> None:
        self._inner = inner
        self._limits = limits
        self._packing = packing
        self._compressed = compressed_size
        self.total = 0  # bytes handed out so far
        self._depth = DepthGuard(limits.max_depth)
        self._ceiling = limits.max_bytes
        if compressed_size is not None:
            self._ceiling = min(limits.max_bytes, max(limits.ratio_floor, compressed_size * limits.max_ratio))

    def read(self, size: int = -1) -> bytes:
        chunk = self._inner.read(size)
        self.total += len(chunk)
        if self.total > self._ceiling:
            raise Refused(self._refusal())
        self._depth.feed(chunk)
        return chunk

    def _refusal(self) -> str:
        if self._compressed is None:
            return f"is larger than {_size(self._limits.max_bytes)}; refused — no NVD feed is that large"
        if self.total > self._limits.max_bytes:
            return (
                f"inflates to more than {_size(self._limits.max_bytes)} ({self._packing}); refused as a possible "
                "decompression bomb — no NVD feed is that large"
            )
        return (
            f"inflates more than {self._limits.max_ratio} times ({self._packing}, {_size(self._compressed)} "
            f"compressed, already {_size(self.total)} inflated); refused as a possible decompression bomb — "
            "NVD feeds inflate 10 to 25 times"
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

    def __init__(self, limit: int) -> None:
        self.limit = limit
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
            f"nests JSON arrays and objects more than about {self.limit} levels deep; refused (NVD feeds nest "
            "11 deep, and deep nesting makes the streaming parser's memory grow with the square of the depth)"
        )


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
    ceiling = min(limits.max_bytes, max(limits.ratio_floor, info.compress_size * limits.max_ratio))
    if info.file_size > ceiling:
        raise InputError(
            f"holds {info.filename}, which declares {_size(info.file_size)} inflated from "
            f"{_size(info.compress_size)}; refused as a possible "
            f"zip bomb (limits: {_size(limits.max_bytes)}, and {limits.max_ratio} times the compressed size)",
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
