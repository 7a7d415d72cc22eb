"""The Debian security tracker → ``VulnRecord(source="debian")``.

Two inputs, told apart by content (a ``{`` first: JSON; a ``[`` first: an advisory list):

- ``data/DSA/list``, ``data/DLA/list`` (and ``DTSA/list``): one record per advisory, streamed::

      [24 Sep 2014] DSA-3032-1 bash - security update
        {CVE-2014-6271}
        [wheezy] - bash 4.2+dfsg-0.1+deb7u1
        [lenny] - vlc <not-affected> (Vulnerable code not present)
        NOTE: …

  → id "DSA-3032-1", aliases = the CVE ids, published = the date (00:00 UTC), title "bash - security
  update", and one AffectedProduct per release line (package, ``Debian:<version>``, fixed version).
- the tracker's JSON export (package → CVE → releases → {status, fixed_version, urgency}): one record
  per CVE (or TEMP- id), all packages of that CVE together. The export is ordered by package, so its
  records are collected while the file is streamed and yielded at the end (memory grows with the
  number of records, not with the size of the file).

Release codenames become Debian version numbers as distro-info-data and OSV spell them ("wheezy" →
"Debian:7", "sarge" → "Debian:3.1", "sid" → "Debian:unstable"); an unknown codename is kept
("Debian:foo"). ``default_status`` says what a release line means: "affected" (with ``fixed_version``
when fixed, without when ``<unfixed>``/``<end-of-life>``…), "unaffected" (``<not-affected>``, or the
tracker's fixed version "0"), "unknown" (``<undetermined>``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import ijson  # type: ignore[import-untyped]

from ismp.engines.feeds.base import AffectedProduct, Reference, VulnRecord
from ismp.engines.feeds.files import LIMITS, CountingReader, Limits, kind, lines, open_binary
from ismp.errors import InputError

SOURCE = "debian"
TRACKER = "https://security-tracker.debian.org/tracker/"

# codename → version, as in distro-info-data's debian.csv (which OSV's Debian ecosystem follows)
RELEASE_VERSIONS = {
    "buzz": "1.1",
    "rex": "1.2",
    "bo": "1.3",
    "hamm": "2.0",
    "slink": "2.1",
    "potato": "2.2",
    "woody": "3.0",
    "sarge": "3.1",
    "etch": "4.0",
    "lenny": "5.0",
    "squeeze": "6.0",
    "wheezy": "7",
    "jessie": "8",
    "stretch": "9",
    "buster": "10",
    "bullseye": "11",
    "bookworm": "12",
    "trixie": "13",
    "forky": "14",
    "duke": "15",
    "sid": "unstable",
}
URGENCIES = ("unimportant", "low", "medium", "high")  # least to most urgent
# "<…>" in place of a fixed version → default_status
_MARKERS = {
    "not-affected": "unaffected",
    "removed": "unaffected",
    "unfixed": "affected",
    "end-of-life": "affected",
    "no-dsa": "affected",
    "ignored": "affected",
    "postponed": "affected",
    "undetermined": "unknown",
}
_MONTHS = {
    m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)
}
_HEADER = re.compile(r"^\[(?P<date>[^\]]*)\]\s+(?P<id>[A-Z]+-\d+(?:-\d+)?)(?:\s+(?P<title>.*))?$")
_DATE = re.compile(r"^(\d{1,2}) ([A-Za-z]{3}) (\d{4})$")
_RELEASE = re.compile(
    r"^\[(?P<release>[^\]\s]+)\]\s+-\s+(?P<package>\S+)\s+(?P<version>[^\s(]+)(?:\s+\((?P<notes>.*)\))?$"
)
_SNIFF_BYTES = 1024**2  # blank space allowed before the first character
_CVE_LIST = re.compile(r"^\{(?P<ids>[^{}]*)\}$")


def ecosystem_of(release: str) -> str:
    """ "Debian:7" for "wheezy"; "Debian:<codename>" for a codename not known here."""
    return f"Debian:{RELEASE_VERSIONS.get(release.lower(), release)}"


class DebianAdapter:
    """Reads ``DSA/list``, ``DLA/list`` (plain or gzip) or the tracker's JSON export."""

    name = SOURCE

    def __init__(self, limits: Limits = LIMITS) -> None:
        self.limits = limits

    def read(self, path: Path) -> Iterator[VulnRecord]:
        if path.is_dir():
            raise InputError("is a directory; give the data/DSA/list or data/DLA/list file", file=str(path))
        first = _first_character(path)
        if first == "{":
            yield from read_tracker_json(path, self.limits)
        elif first == "[":
            yield from read_advisory_list(path, self.limits)
        elif first == "":
            raise InputError("is empty", file=str(path))
        else:
            raise InputError(
                f'is neither a Debian advisory list (starting "[date] DSA-…") nor the tracker\'s JSON export '
                f"(an object); it starts with {first!r}",
                file=str(path),
            )


def _first_character(path: Path) -> str:
    """The first non-blank character of the file (inflated when gzip), "" when there is none."""
    with open_binary(path) as stream:
        reader = CountingReader(stream, str(path))
        while reader.total < _SNIFF_BYTES and (chunk := reader.read(64 * 1024)):
            text = chunk.lstrip()
            if text:
                return chr(text[0])
        if reader.total >= _SNIFF_BYTES:
            raise InputError(f"starts with more than {_SNIFF_BYTES:,} bytes of blank space", file=str(path))
    return ""


# ------------------------------------------------------------------------------------ advisory lists


@dataclass
class _Advisory:
    id: str
    published: dt.datetime
    title: str
    cves: list[str] = field(default_factory=list)
    affected: list[AffectedProduct] = field(default_factory=list)
    urgencies: list[str] = field(default_factory=list)

    def record(self) -> VulnRecord:
        return VulnRecord(
            source=SOURCE,
            id=self.id,
            aliases=tuple(dict.fromkeys(self.cves)),
            published=self.published,
            titles={"en": self.title} if self.title else {},
            severity=_most_urgent(self.urgencies),
            references=(Reference(url=TRACKER + self.id),),
            affected=tuple(self.affected),
        )


def read_advisory_list(path: Path, limits: Limits = LIMITS) -> Iterator[VulnRecord]:
    """One VulnRecord per advisory of a DSA/DLA list, in file order (duplicates included)."""
    name = str(path)
    current: _Advisory | None = None
    count = 0
    for number, raw in lines(path, limits):
        try:
            line = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as exc:
            raise InputError(f"is not UTF-8 text ({exc.reason})", file=name, line=number) from None
        text = line.strip()
        if not text or text.startswith("NOTE:"):
            continue
        if not line[0].isspace():
            if current is not None:
                count += 1
                yield current.record()
            current = _header(text, name, number)
            continue
        if current is None:
            raise InputError("an indented line comes before the first advisory header", file=name, line=number)
        _advisory_line(current, text, name, number)
    if current is not None:
        count += 1
        yield current.record()
    if count == 0:
        raise InputError("holds no advisories", file=name)


def _header(text: str, name: str, number: int) -> _Advisory:
    match = _HEADER.match(text)
    if match is None:
        raise InputError(
            f'is not an advisory header "[DD Mon YYYY] DSA-NNNN-N package - description": {text[:80]!r}',
            file=name,
            line=number,
        )
    date = _DATE.match(match.group("date").strip())
    month = _MONTHS.get(date.group(2).lower()) if date else None
    try:
        if date is None or month is None:
            raise ValueError
        published = dt.datetime(int(date.group(3)), month, int(date.group(1)), tzinfo=dt.UTC)
    except ValueError:
        raise InputError(
            f'"{match.group("date")[:20]}" is not a date like "24 Sep 2014"', file=name, line=number, field="date"
        ) from None
    return _Advisory(id=match.group("id"), published=published, title=" ".join((match.group("title") or "").split()))


def _advisory_line(advisory: _Advisory, text: str, name: str, number: int) -> None:
    cves = _CVE_LIST.match(text)
    if cves is not None:
        advisory.cves.extend(cves.group("ids").split())
        return
    release = _RELEASE.match(text)
    if release is None:
        raise InputError(
            f'is not a "{{CVE-…}}" list, a "[release] - package version" line or a NOTE: {text[:80]!r}',
            file=name,
            line=number,
        )
    version = release.group("version")
    notes = release.group("notes") or ""
    if version.startswith("<"):
        marker = version.strip("<>")
        if marker not in _MARKERS:
            raise InputError(
                f'"{version[:30]}" is not a version or a known marker (<not-affected>, <unfixed>, <end-of-life> …)',
                file=name,
                line=number,
                field="version",
            )
        status, fixed = _MARKERS[marker], ""
    else:
        status, fixed = "affected", version
    advisory.urgencies.extend(token.strip().lower() for token in notes.split(";"))
    advisory.affected.append(
        AffectedProduct(
            package_name=release.group("package"),
            ecosystem=ecosystem_of(release.group("release")),
            default_status=status,
            fixed_version=fixed,
        )
    )


def _most_urgent(words: list[str]) -> str:
    found = [URGENCIES.index(w) for w in (word.rstrip("*").strip() for word in words) if w in URGENCIES]
    return URGENCIES[max(found)] if found else ""


# ----------------------------------------------------------------------------------- tracker JSON


@dataclass
class _Cve:
    description: str = ""
    urgencies: list[str] = field(default_factory=list)
    affected: list[AffectedProduct] = field(default_factory=list)
    bugs: list[str] = field(default_factory=list)


def read_tracker_json(path: Path, limits: Limits = LIMITS) -> Iterator[VulnRecord]:
    """One VulnRecord per CVE (or TEMP- id) of the tracker's JSON export, in order of first mention."""
    name = str(path)
    found: dict[str, _Cve] = {}
    packages = 0
    with open_binary(path) as stream:
        reader = CountingReader(stream, name, limits, json_stream=True)
        try:
            for package, entries in ijson.kvitems(reader, "", use_float=True):
                packages += 1
                _package(found, str(package), entries, name, packages)
                reader.mark()
        except ijson.JSONError as exc:
            raise InputError(
                f"is not valid JSON after {packages} package(s) ({exc}; truncated?)", file=name, line=packages + 1
            ) from None
        except UnicodeDecodeError as exc:
            raise InputError(f"is not UTF-8 text ({exc.reason})", file=name, line=packages + 1) from None
    if not found:
        raise InputError("holds no CVE entries (expected {package: {CVE: {releases: …}}})", file=name)
    for cve_id, cve in found.items():
        yield VulnRecord(
            source=SOURCE,
            id=cve_id,
            descriptions={"en": cve.description} if cve.description else {},
            severity=_most_urgent(cve.urgencies),
            references=(
                Reference(url=TRACKER + cve_id),
                *(Reference(url=f"https://bugs.debian.org/{bug}", tags=("debianbug",)) for bug in cve.bugs),
            ),
            affected=tuple(cve.affected),
        )


def _package(found: dict[str, _Cve], package: str, entries: object, name: str, number: int) -> None:
    """Fold one package's entries into ``found``; ``number`` (the package's position) is the record
    number errors name."""
    if not isinstance(entries, dict):
        raise InputError(
            f"package {package!r}: expected an object of CVE entries, found {kind(entries)}; is this the tracker's "
            "JSON export?",
            file=name,
            line=number,
            field=package,
        )
    for cve_id, entry in entries.items():
        where = f"{package}.{cve_id}"
        if not isinstance(entry, dict):
            raise InputError(f"expected an object, found {kind(entry)}", file=name, line=number, field=where)
        cve = found.setdefault(str(cve_id), _Cve())
        description = entry.get("description")
        if isinstance(description, str) and not cve.description:
            cve.description = description.strip()
        bug = entry.get("debianbug")
        if isinstance(bug, int | float) and not isinstance(bug, bool) and str(int(bug)) not in cve.bugs:
            cve.bugs.append(str(int(bug)))
        releases = entry.get("releases", {})
        if not isinstance(releases, dict):
            raise InputError(
                f"expected an object, found {kind(releases)}", file=name, line=number, field=f"{where}.releases"
            )
        for release, state in releases.items():
            cve.affected.append(_release(package, str(release), state, name, number, f"{where}.releases.{release}"))
            urgency = state.get("urgency") if isinstance(state, dict) else None
            if isinstance(urgency, str):
                cve.urgencies.append(urgency.lower())


def _release(package: str, release: str, state: object, name: str, number: int, where: str) -> AffectedProduct:
    if not isinstance(state, dict):
        raise InputError(f"expected an object, found {kind(state)}", file=name, line=number, field=where)
    status = state.get("status", "")
    fixed = state.get("fixed_version", "") or ""
    if not isinstance(status, str) or not isinstance(fixed, str):
        raise InputError("status and fixed_version must be strings", file=name, line=number, field=where)
    if status == "resolved" and fixed == "0":
        default_status, fixed = "unaffected", ""  # the tracker's "0": never affected
    elif status in ("resolved", "open"):
        default_status = "affected"
    elif status in ("undetermined", ""):
        default_status = "unknown"
    else:
        raise InputError(
            f'"{status[:20]}" is not a tracker status (resolved, open, undetermined)',
            file=name,
            line=number,
            field=f"{where}.status",
        )
    return AffectedProduct(
        package_name=package, ecosystem=ecosystem_of(release), default_status=default_status, fixed_version=fixed
    )
