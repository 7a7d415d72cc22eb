"""The inventory formats ISMP can read, by name, and what every reader shares.

Each reader module registers itself::

    @register("cyclonedx-json")
    def read_cyclonedx_json(data: bytes, filename: str, *, max_bytes: int) -> SbomDocument: ...

Built-in readers live in ``ledger`` (csv, xlsx), ``cyclonedx`` and ``spdx``; third parties add theirs
through the ``ismp.inventory_formats`` entry-point group (the entry point names a module that registers
on import). :func:`read_inventory_file` is the one entry point the service layer needs: it checks the
size, picks the format (given, or by :func:`detect_format`) and calls the reader.

Readers share :func:`check_size` and :class:`ErrorList`, so every format limits input the same way and
reports all bad values together (capped at :data:`MAX_ERRORS`, with the true total kept).
"""

from __future__ import annotations

import codecs
import re
from typing import Protocol

from ismp.engines.inventory.records import LedgerRow, SbomDocument
from ismp.engines.registry import Registry
from ismp.errors import InputError, InputErrors

MAX_ERRORS = 1000
ENTRY_POINT_GROUP = "ismp.inventory_formats"
_BUILTIN_MODULES = (
    "ismp.engines.inventory.ledger",
    "ismp.engines.inventory.cyclonedx",
    "ismp.engines.inventory.spdx",
)
# Longest suffix first: ".spdx.json" must win over ".json". ".json" alone is decided by content.
_EXTENSIONS: tuple[tuple[str, str], ...] = (
    (".spdx.json", "spdx-json"),
    (".cdx.json", "cyclonedx-json"),
    (".cdx.xml", "cyclonedx-xml"),
    (".spdx", "spdx-tag"),
    (".csv", "csv"),
    (".xlsx", "xlsx"),
    (".xlsm", "xlsx"),
    (".xml", "cyclonedx-xml"),
)
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls and password-protected .xlsx


class InventoryReader(Protocol):
    """Read one file's bytes; raise InputError/InputErrors naming the file on bad input."""

    def __call__(self, data: bytes, filename: str, *, max_bytes: int) -> list[LedgerRow] | SbomDocument: ...


_registry: Registry[InventoryReader] = Registry("inventory format", ENTRY_POINT_GROUP, _BUILTIN_MODULES)
register = _registry.register
formats = _registry.names
get = _registry.get


def read_inventory_file(
    data: bytes, filename: str, *, fmt: str | None = None, max_bytes: int
) -> list[LedgerRow] | SbomDocument:
    """Read a ledger or an SBOM: the format is ``fmt`` when given, else detected from name and content."""
    check_size(len(data), filename, max_bytes)
    reader = get(fmt or detect_format(filename, data))
    return reader(data, filename, max_bytes=max_bytes)


def detect_format(filename: str, head: bytes) -> str:
    """The format of a file, by its extension and then by its first bytes (pass the whole file if small)."""
    lowered = filename.lower()
    for suffix, name in _EXTENSIONS:
        if lowered.endswith(suffix):
            return name
    sniffed = sniff_format(head)
    if sniffed is not None:
        return sniffed
    if lowered.endswith(".json"):
        raise InputError(
            'is JSON but neither CycloneDX (no "bomFormat" key) nor SPDX 2 (no "spdxVersion" key)', file=filename
        )
    raise InputError(
        "cannot tell the format; expected a ledger (.csv, .xlsx) or an SBOM (CycloneDX JSON or XML, "
        "SPDX JSON or tag-value)",
        file=filename,
    )


def sniff_format(head: bytes) -> str | None:
    """The format the first bytes of a file show, or None when they do not show one."""
    if head.startswith((_ZIP_MAGIC, _OLE_MAGIC)):
        return "xlsx"
    text = _head_text(head[:1_000_000]).lstrip()
    if text.startswith("<"):
        return "cyclonedx-xml" if "cyclonedx.org/schema/bom" in text else None
    if text.startswith("{"):
        return _sniff_json(text)
    if re.search(r"^[ \t]*SPDXVersion[ \t]*:", text, re.MULTILINE):
        return "spdx-tag"
    first_line = text.split("\n", 1)[0]
    return "csv" if "," in first_line else None


def _sniff_json(text: str) -> str | None:
    positions = {
        "cyclonedx-json": text.find('"bomFormat"'),
        "spdx-json": text.find('"spdxVersion"'),
    }
    found = {name: at for name, at in positions.items() if at >= 0}
    return min(found, key=found.__getitem__) if found else None


def _head_text(head: bytes) -> str:
    """Decode the first bytes for sniffing only: honour a UTF-16/32 BOM, replace anything undecodable."""
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
        (codecs.BOM_UTF8, "utf-8"),
    ):
        if head.startswith(bom):
            return head[len(bom) :].decode(encoding, errors="replace")
    return head.decode("utf-8", errors="replace")


def check_size(size: int, filename: str, max_bytes: int) -> None:
    """Refuse input larger than ``max_bytes`` before parsing any of it."""
    if size > max_bytes:
        raise InputError(
            f"is {_human(size)}, over the {_human(max_bytes)} limit for one import; "
            "split it into smaller files or ask an administrator to raise the limit (ISMP_MAX_IMPORT_MB)",
            file=filename,
        )


def _human(size: int) -> str:
    if size < 1024 * 1024:
        return f"{size:,} bytes"
    return f"{size / (1024 * 1024):,.1f} MiB"


class ErrorList:
    """Bad values found in one file: keeps the first :data:`MAX_ERRORS`, counts them all."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.errors: list[InputError] = []
        self.total = 0

    def add(self, error: InputError) -> None:
        self.total += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(error)

    def __bool__(self) -> bool:
        return self.total > 0

    def raise_if_any(self) -> None:
        """Raise one InputErrors with everything found; nothing from the file may be applied."""
        if self.total:
            raise InputErrors(self.errors, file=self.filename, total=self.total)
