"""EPSS scores: FIRST's daily CSV and the ``;``-separated mirror format, plain or gzip.

FIRST's file starts with a comment line ``#model_version:v2025.03.14,score_date:2025-12-26T12:55:00Z``,
then the header ``cve,epss,percentile``. The mirror format (``EMBA-support-repos/EPSS-data``) has neither:
rows are ``cve;epss;percentile``. The score date comes from the comment line; a file without one takes
the ``score_date`` the caller gives (else ``date=None``). Rows are streamed line by line.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ismp.engines.feeds.base import EpssScore
from ismp.engines.feeds.files import FeedFile, TextLines, cve_id, iso_date, open_feed
from ismp.errors import InputError

EXPECTED = (
    "EPSS scores: FIRST's daily CSV (a #model_version:…,score_date:… line, then cve,epss,percentile) "
    "or the mirror format cve;epss;percentile"
)
COLUMNS = ("cve", "epss", "percentile")
_CVE_ID = re.compile(r"CVE-[0-9]{4}-[0-9]{4,19}")


class EpssAdapter:
    """Feed adapter ``epss``. ``score_date`` dates the scores of files that do not say their date."""

    name = "epss"

    def __init__(self, score_date: dt.date | None = None) -> None:
        self.score_date = score_date

    def read(self, path: Path) -> Iterator[EpssScore]:
        return read_epss(path, score_date=self.score_date)


def read_epss(path: Path, *, score_date: dt.date | None = None) -> Iterator[EpssScore]:
    """Every score in an EPSS file, in file order. The file's own score date wins over ``score_date``."""
    with open_feed(path, EXPECTED) as feed:
        if feed.first_char in ("{", "["):
            raise InputError(f"is JSON; expected {EXPECTED}", file=feed.name, line=1)
        yield from _read(feed, score_date)


def _read(feed: FeedFile, score_date: dt.date | None) -> Iterator[EpssScore]:
    lines = feed.lines(EXPECTED)
    first = next(lines)
    if first.startswith("#"):
        score_date = _comment_date(first, feed.name) or score_date
        first = next(lines, "")
    separator = ";" if ";" in first else ","
    fields = [field.strip() for field in first.strip().split(separator)]
    if cve_id(fields[0]) is None:  # a header row
        layout = _Layout(separator, len(fields), *_header_positions(fields, feed.name, lines.number))
    else:
        layout = _Layout(separator, len(COLUMNS), 0, 1, 2)
        yield _score(first, layout, score_date, feed.name, lines.number)
    yield from _rows(lines, layout, score_date, feed.name)


@dataclass(frozen=True, slots=True)
class _Layout:
    """How a file's rows are laid out: the separator, the number of fields, where each column is."""

    separator: str
    width: int
    cve_at: int
    score_at: int
    percentile_at: int


def _rows(lines: TextLines, layout: _Layout, date: dt.date | None, file: str) -> Iterator[EpssScore]:
    """The hot loop. Well-formed rows take the short path; anything else is checked field by field."""
    separator, width, cve_at, score_at, percentile_at = (
        layout.separator,
        layout.width,
        layout.cve_at,
        layout.score_at,
        layout.percentile_at,
    )
    fullmatch = _CVE_ID.fullmatch
    for line in lines:
        parts = line.rstrip("\r\n").split(separator)
        if len(parts) == width:
            cve = parts[cve_at]
            try:
                score = float(parts[score_at])
                percentile = float(parts[percentile_at])
            except ValueError:
                pass
            else:
                if fullmatch(cve) and 0.0 <= score <= 1.0 and 0.0 <= percentile <= 1.0:
                    yield EpssScore(cve, score, percentile, date)
                    continue
        if line.strip():
            yield _score(line, layout, date, file, lines.number)


def _score(line: str, layout: _Layout, date: dt.date | None, file: str, number: int) -> EpssScore:
    """One row, checked field by field: InputError names the line and the bad field."""
    parts = [part.strip() for part in line.strip().split(layout.separator)]
    if len(parts) != layout.width:
        raise InputError(
            f"has {len(parts)} fields separated by {layout.separator!r}; expected {layout.width} "
            f"({layout.separator.join(COLUMNS)})",
            file=file,
            line=number,
        )
    cve = cve_id(parts[layout.cve_at])
    if cve is None:
        raise InputError(f'"{parts[layout.cve_at][:40]}" is not a CVE id', file=file, line=number, field="cve")
    score = _probability(parts[layout.score_at], file, number, "epss")
    percentile = _probability(parts[layout.percentile_at], file, number, "percentile")
    return EpssScore(cve, score, percentile, date)


def _probability(text: str, file: str, line: int, field: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.0 <= value <= 1.0:  # also refuses nan
        raise InputError(f'"{text[:40]}" is not a number from 0 to 1', file=file, line=line, field=field)
    return value


def _comment_date(line: str, file: str) -> dt.date | None:
    """``score_date`` from ``#model_version:v2025.03.14,score_date:2025-12-26T12:55:00Z``; None if absent."""
    for item in line.lstrip("#").split(","):
        key, _, value = item.partition(":")
        if key.strip() == "score_date":
            return iso_date(value.strip()[:10], file=file, line=1, field="score_date")
    return None


def _header_positions(fields: list[str], file: str, line: int) -> tuple[int, int, int]:
    names = [field.lower().lstrip("\ufeff") for field in fields]
    missing = [column for column in COLUMNS if column not in names]
    if missing:
        raise InputError(
            f"has no column {', '.join(missing)} (header {','.join(fields)[:80]}); expected {EXPECTED}",
            file=file,
            line=line,
            field=missing[0],
        )
    return names.index("cve"), names.index("epss"), names.index("percentile")
