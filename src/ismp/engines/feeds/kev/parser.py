"""The CISA Known Exploited Vulnerabilities catalogue, as JSON (plain or gzip) or CSV.

One :class:`~ismp.engines.feeds.base.ExploitRecord` per catalogue entry: ``reference`` is always
``"KEV"`` (a CVE is in the catalogue or not, whichever version of it says so), ``details["catalogVersion"]``
is the catalogue version (``"2025.08.25"``) for JSON and ``""`` for CSV, which carries no version; ``date``
is ``dateAdded`` and ``due`` is ``dueDate``. Which format a file holds is decided by its content.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from ismp.engines.feeds.base import ExploitRecord
from ismp.engines.feeds.files import (
    FeedFile,
    cve_id,
    iso_date,
    iter_csv,
    json_kind,
    load_json,
    open_feed,
    text_value,
)
from ismp.errors import InputError

EXPECTED = "the CISA KEV catalogue (known_exploited_vulnerabilities.json, .json.gz or .csv)"
# The catalogue's JSON schema (known_exploited_vulnerabilities_schema.json) requires these.
CATALOGUE_KEYS = ("catalogVersion", "dateReleased", "count", "vulnerabilities")
REQUIRED = (
    "cveID",
    "vendorProject",
    "product",
    "vulnerabilityName",
    "dateAdded",
    "shortDescription",
    "requiredAction",
    "dueDate",
)
DETAILS = (
    "vendorProject",
    "product",
    "knownRansomwareCampaignUse",
    "requiredAction",
    "shortDescription",
    "notes",
    "cwes",
)


class KevAdapter:
    """Feed adapter ``kev``: the CISA KEV catalogue."""

    name = "kev"

    def read(self, path: Path) -> Iterator[ExploitRecord]:
        return read_kev(path)


def read_kev(path: Path) -> Iterator[ExploitRecord]:
    """Every entry of a KEV catalogue file, in file order (JSON, gzip JSON or CSV, told by content)."""
    with open_feed(path, EXPECTED) as feed:
        if feed.first_char in ("{", "["):
            yield from _read_json(feed)
        else:
            yield from _read_csv(feed)


def _read_json(feed: FeedFile) -> Iterator[ExploitRecord]:
    document = load_json(feed, EXPECTED)
    if not isinstance(document, dict):
        raise InputError(f"is JSON but {json_kind(document)} at the top level; expected {EXPECTED}", file=feed.name)
    missing = [key for key in CATALOGUE_KEYS if key not in document]
    if missing:
        raise InputError(
            f"is JSON but not the KEV catalogue: it has no {', '.join(missing)}; expected an object with "
            f"{', '.join(CATALOGUE_KEYS)}",
            file=feed.name,
            field=missing[0],
        )
    version = document["catalogVersion"]
    if not isinstance(version, str) or not version.strip():
        raise InputError(
            f"catalogVersion must be text such as 2025.08.25, not {json_kind(version)}",
            file=feed.name,
            field="catalogVersion",
        )
    entries = document["vulnerabilities"]
    if not isinstance(entries, list):
        raise InputError(
            f"vulnerabilities must be an array, not {json_kind(entries)}", file=feed.name, field="vulnerabilities"
        )
    count = document["count"]
    if not isinstance(count, int) or isinstance(count, bool) or count != len(entries):
        raise InputError(
            f"count is {count!r} but vulnerabilities holds {len(entries)} entries (an edited or incomplete "
            "catalogue?); download it again",
            file=feed.name,
            field="count",
        )
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise InputError(
                f"vulnerability {number} must be an object, not {json_kind(entry)}", file=feed.name, line=number
            )
        yield _record(entry, version.strip(), file=feed.name, line=number, label=f"vulnerability {number}")


def _read_csv(feed: FeedFile) -> Iterator[ExploitRecord]:
    for line, row in iter_csv(feed, EXPECTED, REQUIRED):
        yield _record(row, "", file=feed.name, line=line, label="")


REFERENCE = "KEV"


def _record(entry: Mapping[str, object], catalog_version: str, *, file: str, line: int, label: str) -> ExploitRecord:
    """One catalogue entry (a JSON object or a CSV row) as a record; InputError names the bad field."""
    raw_cve = entry.get("cveID")
    cve = cve_id(raw_cve)
    if cve is None:
        where = f"{label} " if label else ""
        problem = "has no cveID" if raw_cve in (None, "") else f'has cveID "{raw_cve}", which is not a CVE id'
        raise InputError(f"{where}{problem}; expected CVE-YYYY-NNNN", file=file, line=line, field="cveID")
    label = f"{label} ({cve})" if label else cve
    texts = {
        key: text_value(entry.get(key), file=file, line=line, field=key, label=label, required=key in REQUIRED)
        for key in ("vulnerabilityName", *DETAILS)
        if key != "cwes"
    }
    added = iso_date(entry.get("dateAdded"), file=file, line=line, field="dateAdded", label=label)
    due = iso_date(entry.get("dueDate"), file=file, line=line, field="dueDate", label=label)
    for key, value in (("dateAdded", added), ("dueDate", due)):
        if value is None:
            raise InputError(f"{label}: {key} is missing; expected YYYY-MM-DD", file=file, line=line, field=key)
    details = {key: texts[key] for key in DETAILS if key != "cwes"}
    details["cwes"] = _cwes(entry.get("cwes"), file=file, line=line, label=label)
    details["catalogVersion"] = catalog_version
    return ExploitRecord(
        source="kev",
        cve=cve,
        reference=REFERENCE,
        name=texts["vulnerabilityName"],
        date=added,
        due=due,
        details=details,
    )


def _cwes(value: object, *, file: str, line: int, label: str) -> str:
    """The CWE ids as the CSV writes them: ``"CWE-59, CWE-436"`` (JSON has an array)."""
    if isinstance(value, list):
        for item in value:
            if not isinstance(item, str):
                raise InputError(
                    f"{label}: cwes must be text such as CWE-78, not {json_kind(item)}",
                    file=file,
                    line=line,
                    field="cwes",
                )
        return ", ".join(item.strip() for item in value if item.strip())
    return text_value(value, file=file, line=line, field="cwes", label=label)
