"""Metasploit modules that name a CVE: ``modules_metadata_base.json`` and the CVE → module mapping.

* Metasploit's ``db/modules_metadata_base.json``: an object of module key (``exploit_windows/smb/…``) →
  module metadata. One ExploitRecord per CVE in the module's ``references``.
* The mirror mapping (``lucacapacci/metasploit``): ``metasploit_cve_to_module.json`` and its single-CVE
  files such as ``CVE-2021-44228.json``, each an array of ``{cve, module, path, name, disclosure_date}``.

Both stream with ijson and give the same record for the same module: ``reference`` is the module's
Metasploit full name (``exploit/windows/smb/ms17_010_eternalblue``, what ``use`` takes), ``name`` its
title, ``date`` its disclosure date, details ``type``, ``path`` (``modules/exploits/….rb``) and, from the
metadata only, ``rank`` (``excellent`` … ``manual``). An object is the metadata, an array the mapping.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from ismp.engines.feeds.base import ExploitRecord
from ismp.engines.feeds.files import (
    FeedFile,
    cve_id,
    iso_date,
    iter_json,
    json_kind,
    open_feed,
    text_value,
)
from ismp.errors import InputError

EXPECTED_METADATA = "Metasploit's modules_metadata_base.json (an object of module names → module metadata)"
EXPECTED_MAPPING = (
    "a Metasploit CVE → module mapping (an array of objects with cve, module, path, name, disclosure_date)"
)
EXPECTED = f"{EXPECTED_METADATA}, or {EXPECTED_MAPPING}"
MODULE_TYPES = ("exploit", "auxiliary", "post", "payload", "encoder", "nop", "evasion")
# Msf::Module ranks (lib/msf/core/constants.rb), as msfconsole prints them.
RANKS = {0: "manual", 100: "low", 200: "average", 300: "normal", 400: "good", 500: "great", 600: "excellent"}
_GITHUB_BLOB = "/blob/"

OnSkip = Callable[[InputError], None]
_log = logging.getLogger(__name__)


def log_skip(problem: InputError) -> None:
    """The default ``on_skip``: a warning in the log, naming the file, the module and why."""
    _log.warning("skipped: %s", problem)


class MetasploitAdapter:
    """Feed adapter ``metasploit``. ``on_skip`` receives each unreadable CVE reference that was skipped."""

    name = "metasploit"

    def __init__(self, on_skip: OnSkip | None = None) -> None:
        self.on_skip = on_skip

    def read(self, path: Path) -> Iterator[ExploitRecord]:
        return read_metasploit(path, on_skip=self.on_skip)


def read_metasploit(path: Path, *, on_skip: OnSkip | None = None) -> Iterator[ExploitRecord]:
    """Every (CVE, module) pair in a Metasploit metadata or mapping file, in file order."""
    report = on_skip or log_skip
    with open_feed(path, EXPECTED) as feed:
        if feed.first_char == "{":
            yield from _read_metadata(feed, report)
        elif feed.first_char == "[":
            yield from _read_mapping(feed)
        else:
            raise InputError(f"is not JSON; expected {EXPECTED}", file=feed.name, line=1)


# --- modules_metadata_base.json -----------------------------------------------------------------------


def _read_metadata(feed: FeedFile, report: OnSkip) -> Iterator[ExploitRecord]:
    for number, key, module in iter_json(feed, "", EXPECTED, pairs=True):
        if number == 1 and "/" not in key:
            raise InputError(
                f'is JSON but not Metasploit module metadata: its first key "{key[:40]}" is not a module name '
                f"such as exploit_windows/smb/ms17_010_eternalblue; expected {EXPECTED}",
                file=feed.name,
                line=1,
            )
        if not isinstance(module, dict):
            raise InputError(
                f"module {number} ({key}) must be an object, not {json_kind(module)}", file=feed.name, line=number
            )
        yield from _module_records(key, module, number, feed.name, report)


def _module_records(
    key: str, module: Mapping[str, object], number: int, file: str, report: OnSkip
) -> Iterator[ExploitRecord]:
    label = f"module {number} ({key})"
    references = module.get("references") or []
    if not isinstance(references, list):
        raise InputError(
            f"{label}: references must be an array, not {json_kind(references)}",
            file=file,
            line=number,
            field="references",
        )
    cves: dict[str, None] = {}
    for reference in references:
        if not isinstance(reference, str):
            raise InputError(
                f"{label}: a reference must be text, not {json_kind(reference)}",
                file=file,
                line=number,
                field="references",
            )
        if not reference.strip().upper().startswith("CVE-"):
            continue  # URL-…, EDB-…, MSB-…, OSVDB-…
        cve = cve_id(reference)
        if cve is None:
            report(
                InputError(
                    f'{label}: reference "{reference[:40]}" is not a CVE id', file=file, line=number, field="references"
                )
            )
            continue
        cves[cve] = None
    if not cves:
        return
    fullname = text_value(module.get("fullname"), file=file, line=number, field="fullname", label=label) or full_name(
        key
    )
    name = text_value(module.get("name"), file=file, line=number, field="name", label=label)
    disclosed = iso_date(module.get("disclosure_date"), file=file, line=number, field="disclosure_date", label=label)
    details = {
        "rank": _rank(module.get("rank"), file, number, label),
        "type": text_value(module.get("type"), file=file, line=number, field="type", label=label)
        or fullname.split("/", 1)[0],
        "path": _module_path(text_value(module.get("path"), file=file, line=number, field="path", label=label)),
    }
    for cve in cves:
        yield ExploitRecord(
            source="metasploit", cve=cve, reference=fullname, name=name, date=disclosed, details=dict(details)
        )


def _rank(value: object, file: str, line: int, label: str) -> str:
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer():
        return RANKS.get(int(value), str(int(value)))
    if isinstance(value, str) and value.strip().lower() in RANKS.values():
        return value.strip().lower()
    raise InputError(f"{label}: rank {value!r} is not a Metasploit rank (0 … 600)", file=file, line=line, field="rank")


# --- the CVE → module mapping -------------------------------------------------------------------------


def _read_mapping(feed: FeedFile) -> Iterator[ExploitRecord]:
    for number, _, row in iter_json(feed, "item", EXPECTED, pairs=False):
        if not isinstance(row, dict) or (number == 1 and not {"cve", "module"} <= row.keys()):
            shown = "an object without cve and module" if isinstance(row, dict) else json_kind(row)
            raise InputError(f"entry {number} is {shown}; expected {EXPECTED_MAPPING}", file=feed.name, line=number)
        yield _mapping_record(row, number, feed.name)


def _mapping_record(row: Mapping[str, object], number: int, file: str) -> ExploitRecord:
    raw_cve = row.get("cve")
    cve = cve_id(raw_cve)
    if cve is None:
        shown = f'"{raw_cve[:40]}"' if isinstance(raw_cve, str) else json_kind(raw_cve)
        raise InputError(f"entry {number}: cve {shown} is not a CVE id", file=file, line=number, field="cve")
    label = f"entry {number} ({cve})"
    module = text_value(row.get("module"), file=file, line=number, field="module", label=label, required=True)
    if "/" not in module:
        raise InputError(
            f'{label}: module "{module[:60]}" is not a module name such as exploit_windows/smb/ms17_010_eternalblue',
            file=file,
            line=number,
            field="module",
        )
    fullname = full_name(module)
    return ExploitRecord(
        source="metasploit",
        cve=cve,
        reference=fullname,
        name=text_value(row.get("name"), file=file, line=number, field="name", label=label),
        date=iso_date(row.get("disclosure_date"), file=file, line=number, field="disclosure_date", label=label),
        details={
            "type": fullname.split("/", 1)[0],
            "path": _module_path(text_value(row.get("path"), file=file, line=number, field="path", label=label)),
        },
    )


# --- names and paths ----------------------------------------------------------------------------------


def full_name(key: str) -> str:
    """A module's full name from its metadata key: ``exploit_windows/smb/x`` → ``exploit/windows/smb/x``.

    A key that is already a full name, or does not start with a module type, is returned unchanged.
    """
    head, slash, rest = key.partition("/")
    module_type, underscore, first = head.partition("_")
    if slash and underscore and module_type in MODULE_TYPES:
        return f"{module_type}/{first}/{rest}"
    return key


def _module_path(path: str) -> str:
    """``modules/exploits/….rb`` from a metadata path (``/modules/…``) or a GitHub URL (``…/blob/master/modules/…``)."""
    if _GITHUB_BLOB in path:
        path = path.split(_GITHUB_BLOB, 1)[1].partition("/")[2]
    return path.lstrip("/")
