"""SBOMs: :func:`read_sbom`, which picks the reader by content, and what the SBOM readers share.

The format readers (``cyclonedx``, ``spdx``) only take values out of a document, as
:class:`FoundComponent`. :func:`build_document` turns those into validated
:class:`~ismp.engines.inventory.records.ComponentRecord` values the same way for every format:

* components are numbered 1, 2, … in document order (nested ones after their parent); an error names
  ``component 12 (name@version)`` and uses that number as its line (tag-value SPDX uses the file line);
* when a component has a CPE, part and vendor come from the CPE; otherwise part comes from the document
  (CycloneDX type, SPDX primary purpose) and vendor from group, publisher or supplier;
* product and version are the document's name and version, falling back to the CPE, then the purl;
* components with the same key (CPE, else purl, else part:vendor:product:version) are merged: the first
  one is kept and its empty non-identifying fields are filled from the later ones.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from dataclasses import dataclass

from ismp.engines.inventory.component import make_component
from ismp.engines.inventory.records import ComponentRecord, SbomDocument
from ismp.engines.inventory.registry import ErrorList, check_size, detect_format, get, sniff_format
from ismp.errors import InputError

SBOM_FORMATS = ("cyclonedx-json", "cyclonedx-xml", "spdx-json", "spdx-tag")


@dataclass(frozen=True, slots=True)
class FoundComponent:
    """The values a format reader found for one component, before any validation."""

    number: int
    name: str = ""
    version: str = ""
    cpe: str = ""
    purl: str = ""
    part: str = ""
    vendor: str = ""
    line: int | None = None
    problem: str = ""  # set when the reader could not take values out (e.g. not an object)
    problem_field: str = ""

    @property
    def label(self) -> str:
        """How an error names the component: ``component 12 (name@version)``."""
        if not self.name:
            return f"component {self.number}"
        shown = f"{self.name}@{self.version}" if self.version else self.name
        return f"component {self.number} ({shown})"


class FieldProblem(ValueError):
    """A value in a document has the wrong shape (e.g. an object where text belongs)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def text_of(value: object, field: str) -> str:
    """A JSON scalar as stripped text; ``""`` for null or absent; FieldProblem for objects and lists."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    kind = {bool: "true/false", dict: "an object", list: "a list"}.get(type(value), type(value).__name__)
    raise FieldProblem(field, f"{field} must be text, not {kind}")


def read_sbom(data: bytes, filename: str, *, max_bytes: int) -> SbomDocument:
    """Read a CycloneDX (JSON or XML) or SPDX 2 (JSON or tag-value) document, recognised by its content."""
    check_size(len(data), filename, max_bytes)
    if not data.strip():
        raise InputError("is empty; expected a CycloneDX or SPDX document", file=filename)
    kind = sniff_format(data) or detect_format(filename, data)
    if kind not in SBOM_FORMATS:
        raise InputError(f"is a ledger ({kind}), not an SBOM (CycloneDX or SPDX)", file=filename)
    document = get(kind)(data, filename, max_bytes=max_bytes)
    if not isinstance(document, SbomDocument):  # pragma: no cover - a registered SBOM reader returns one
        raise TypeError(f"reader for {kind} returned {type(document).__name__}")
    return document


def load_json(data: bytes, filename: str) -> object:
    """Parse JSON (UTF-8, -16 or -32) with errors a person can act on."""
    if not data.strip():
        raise InputError("is empty; expected a CycloneDX or SPDX document", file=filename)
    try:
        value: object = json.loads(data)
    except json.JSONDecodeError as exc:
        # A string left open, or an error at the very end, means the document stops part-way.
        truncated = exc.msg.startswith("Unterminated string") or exc.pos >= len(exc.doc.rstrip())
        hint = "; the file ends too early and looks truncated" if truncated else ""
        raise InputError(
            f"is not valid JSON ({exc.msg}: line {exc.lineno}, column {exc.colno}){hint}",
            file=filename,
            line=exc.lineno,
        ) from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"is not UTF-8, UTF-16 or UTF-32 text ({exc.reason})", file=filename) from exc
    except RecursionError as exc:
        raise InputError("nests JSON arrays or objects too deeply to be an SBOM", file=filename) from exc
    return value


def build_document(
    *, fmt: str, spec_version: str, name: str, found: Iterable[FoundComponent], filename: str
) -> SbomDocument:
    """Validate every found component, merge duplicates, and raise all errors together."""
    errors = ErrorList(filename)
    records: list[ComponentRecord] = []
    for item in found:
        record = _record(item, filename, errors)
        if record is not None:
            records.append(record)
    errors.raise_if_any()
    return SbomDocument(format=fmt, spec_version=spec_version, name=name, components=merge_duplicates(records))


def _record(item: FoundComponent, filename: str, errors: ErrorList) -> ComponentRecord | None:
    line = item.line if item.line is not None else item.number
    if item.problem:
        errors.add(InputError(f"{item.label}: {item.problem}", file=filename, line=line, field=item.problem_field))
        return None
    try:
        return make_component(
            line=line,
            file=filename,
            cpe=item.cpe,
            purl=item.purl,
            part="" if item.cpe else item.part,
            vendor="" if item.cpe else item.vendor,
            product=item.name,
            version=item.version,
        )
    except InputError as error:
        errors.add(InputError(f"{item.label}: {error.reason}", file=filename, line=line, field=error.location.field))
        return None


def merge_duplicates(records: Iterable[ComponentRecord]) -> list[ComponentRecord]:
    """One record per key, in first-seen order; later duplicates fill the first one's empty fields."""
    merged: dict[str, ComponentRecord] = {}
    for record in records:
        first = merged.get(record.key)
        merged[record.key] = record if first is None else _fill(first, record)
    return list(merged.values())


def _fill(first: ComponentRecord, later: ComponentRecord) -> ComponentRecord:
    # Fields that make up the key are left alone, so the merged record keeps the key it is stored under.
    if first.cpe:
        identity: tuple[str, ...] = ("cpe",)
    elif first.purl:
        identity = ("cpe", "purl")
    else:
        identity = ("cpe", "purl", "part", "vendor", "product", "version")
    fields = ("cpe", "purl", "part", "vendor", "product", "version")
    changes = {
        field: getattr(later, field)
        for field in fields
        if field not in identity and not getattr(first, field) and getattr(later, field)
    }
    return dataclasses.replace(first, **changes) if changes else first
