"""MyJVN API responses (JVN iPedia) → VulnRecords: the entry points of the jvn feed.

* :func:`parse_response` takes one response as bytes (what an online client fetched) and returns its
  records with the status block's paging counters (MyJVN pages by ``startItem``/``maxCountItem``).
* :func:`read_records` streams the records of a file (a saved response or a JVNDB data feed); XML is read
  in constant memory, JSON is loaded whole.
* :class:`JvnAdapter` is the FeedAdapter registered as "jvn".

XML ("hnd" feed) is read by :mod:`.hnd`, JSON ("oka" feed) by :mod:`.oka`; the first non-blank character
decides which. Everything a person must act on is an InputError (a MyJVN error response is its subclass
JvnApiError, carrying ``errCd`` and ``errMsg``).
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ismp.engines.feeds.base import FeedRecord, VulnRecord
from ismp.engines.feeds.jvn.common import SOURCE, Joined, JvnStatus, Readable
from ismp.engines.feeds.jvn.hnd import XmlReader
from ismp.engines.feeds.jvn.oka import parse_json
from ismp.errors import InputError

_SNIFF_BYTES = 4096


@dataclass(frozen=True, slots=True)
class JvnResponse:
    """One MyJVN response: its records, its format, and its status block (None when it has none)."""

    format: str  # "vuldef-3.2", "jvnrss-3.2", "myjvn-csaf-1.0", "myjvn-stix-1.0", "myjvn-feed-1.0", "csaf-2.0"…
    records: tuple[VulnRecord, ...]
    status: JvnStatus | None = None

    @property
    def method(self) -> str:
        return self.status.method if self.status else ""

    @property
    def total_res(self) -> int | None:
        """``totalRes``: how many entries match the query in all."""
        return self.status.total_res if self.status else None

    @property
    def total_res_ret(self) -> int | None:
        """``totalResRet``: how many entries this response holds."""
        return self.status.total_res_ret if self.status else None

    @property
    def first_res(self) -> int | None:
        """``firstRes``: the 1-based position of this response's first entry among all matches."""
        return self.status.first_res if self.status else None

    @property
    def next_start_item(self) -> int | None:
        """The ``startItem`` to ask for the next page, or None when this response is the last (or unpaged)."""
        total, returned, first = self.total_res, self.total_res_ret, self.first_res
        if total is None or returned is None or first is None or returned <= 0:
            return None
        following = first + returned
        return following if following <= total else None


def parse_response(data: bytes, filename: str) -> JvnResponse:
    """Parse one whole MyJVN response (XML or JSON); InputError when it cannot be used."""
    stream = io.BytesIO(data)
    kind, head = _sniff(stream, filename)
    if kind == "json":
        result = parse_json(head + stream.read(), filename)
        return JvnResponse(result.format, result.records, result.status)
    reader = XmlReader(Joined(head, stream), filename)
    records = tuple(reader.records())
    return JvnResponse(reader.format, records, reader.status)


def read_records(path: Path) -> Iterator[VulnRecord]:
    """Stream the records of a saved response or JVNDB data feed; InputError on bad input.

    XML records are yielded as they are read, so an error late in a file (a malformed status block, a
    MyJVN error) is raised after the earlier records: apply nothing from a file that raised."""
    name = path.name
    try:
        stream = path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot be read: {exc.strerror or exc}", file=name) from exc
    with stream:
        kind, head = _sniff(stream, name)
        if kind == "json":
            yield from parse_json(head + stream.read(), name).records
        else:
            yield from XmlReader(Joined(head, stream), name).records()


class JvnAdapter:
    """The FeedAdapter for JVN iPedia (MyJVN API responses and JVNDB data feeds)."""

    name = SOURCE

    def read(self, path: Path) -> Iterator[FeedRecord]:
        return read_records(path)


def _sniff(stream: Readable, filename: str) -> tuple[str, bytes]:
    """("xml" or "json", the bytes read so far, leading blanks dropped when the text is UTF-8)."""
    head = stream.read(_SNIFF_BYTES)
    while head and not head.lstrip(b"\xef\xbb\xbf \t\r\n"):
        more = stream.read(_SNIFF_BYTES)
        if not more:
            break
        head += more
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        first = head.decode("utf-16", errors="ignore").lstrip("\ufeff \t\r\n")[:1]
    else:
        bom = codecs.BOM_UTF8 if head.startswith(codecs.BOM_UTF8) else b""
        head = bom + head[len(bom) :].lstrip(b" \t\r\n")  # expat wants <?xml …?> first
        first = head[len(bom) : len(bom) + 1].decode("ascii", errors="replace")
    if not first:
        raise InputError("is empty; expected a MyJVN API response (XML or JSON)", file=filename)
    if first == "<":
        return "xml", head
    if first in "{[":
        return "json", head
    raise InputError(
        f"is neither XML nor JSON (it starts with {head[:20]!r}); expected a MyJVN API response", file=filename
    )
