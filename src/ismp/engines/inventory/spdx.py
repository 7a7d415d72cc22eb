"""SPDX 2.x SBOMs, JSON and tag-value: every package is a component.

From each package: name, version (``versionInfo`` / ``PackageVersion``), the first CPE among the
``SECURITY cpe23Type`` (else ``cpe22Type``) external references, the first ``PACKAGE-MANAGER purl``
(``PACKAGE_MANAGER`` is accepted too), and the supplier when it is ``Organization: X`` (a person is not
a vendor). ``primaryPackagePurpose`` OPERATING-SYSTEM and FIRMWARE give part ``o``, DEVICE gives ``h``.
SPDX 3 (JSON-LD) is recognised and refused with a clear message.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from ismp.engines.inventory.records import SbomDocument
from ismp.engines.inventory.registry import check_size, register
from ismp.engines.inventory.sbom import FieldProblem, FoundComponent, build_document, load_json, text_of
from ismp.errors import InputError

PART_BY_PURPOSE = {"OPERATING-SYSTEM": "o", "FIRMWARE": "o", "DEVICE": "h"}
_ENDS_PACKAGE = frozenset({"FileName", "SnippetSPDXID", "LicenseID"})
_SPDX3 = "is SPDX 3 (JSON-LD), which ISMP does not read yet; export the SBOM as SPDX 2.3 JSON or tag-value"


@dataclass
class _Package:
    """The values of one package, gathered before they become a FoundComponent."""

    number: int
    line: int | None = None
    name: str = ""
    version: str = ""
    supplier: str = ""
    purpose: str = ""
    refs: list[tuple[str, str, str]] = field(default_factory=list)  # (category, type, locator)

    def found(self) -> FoundComponent:
        return FoundComponent(
            self.number,
            name=self.name,
            version=self.version,
            cpe=_first_ref(self.refs, "SECURITY", "cpe23Type") or _first_ref(self.refs, "SECURITY", "cpe22Type"),
            purl=_first_ref(self.refs, "PACKAGE-MANAGER", "purl"),
            part=PART_BY_PURPOSE.get(self.purpose.upper().replace("_", "-"), "a"),
            vendor=organisation(self.supplier),
            line=self.line,
        )


def organisation(supplier: str) -> str:
    """The organisation in an SPDX supplier, ``Organization: Acme (contact@acme.example)`` → ``Acme``."""
    kind, _, rest = supplier.partition(":")
    if kind.strip().lower() != "organization":
        return ""
    return re.sub(r"\s*\([^()]*\)\s*$", "", rest).strip()


def _first_ref(refs: list[tuple[str, str, str]], category: str, kind: str) -> str:
    for ref_category, ref_type, locator in refs:
        if ref_category.upper().replace("_", "-") == category and ref_type.lower() == kind.lower():
            return locator
    return ""


# --- JSON ---------------------------------------------------------------------------------------------


@register("spdx-json")
def read_spdx_json(data: bytes, filename: str, *, max_bytes: int) -> SbomDocument:
    """An SPDX 2.x JSON document (``"spdxVersion": "SPDX-2.3"``)."""
    check_size(len(data), filename, max_bytes)
    document = load_json(data, filename)
    if not isinstance(document, dict):
        raise InputError("is JSON but not an SPDX document: the top level is not an object", file=filename)
    version = document.get("spdxVersion")
    if "@context" in document or "@graph" in document or (isinstance(version, str) and version.startswith("SPDX-3")):
        raise InputError(_SPDX3, file=filename)
    if not isinstance(version, str) or not version.startswith("SPDX-2"):
        raise InputError(f'is not an SPDX 2 document: "spdxVersion" is {version!r}; expected "SPDX-2.3"', file=filename)
    packages = document.get("packages", [])
    if not isinstance(packages, list):
        raise InputError('"packages" must be a list', file=filename, field="packages")
    name = document.get("name")
    return build_document(
        fmt="spdx-json",
        spec_version=version.removeprefix("SPDX-"),
        name=name.strip() if isinstance(name, str) else "",
        found=(_from_json(number, item) for number, item in enumerate(packages, start=1)),
        filename=filename,
    )


def _from_json(number: int, item: object) -> FoundComponent:
    if not isinstance(item, dict):
        return FoundComponent(number, problem="must be a JSON object")
    try:
        package = _Package(
            number,
            name=text_of(item.get("name"), "name"),
            version=text_of(item.get("versionInfo"), "versionInfo"),
            supplier=text_of(item.get("supplier"), "supplier"),
            purpose=text_of(item.get("primaryPackagePurpose"), "primaryPackagePurpose"),
        )
        refs = item.get("externalRefs", [])
        for ref in refs if isinstance(refs, list) else []:
            if isinstance(ref, dict):
                package.refs.append(
                    (
                        text_of(ref.get("referenceCategory"), "referenceCategory"),
                        text_of(ref.get("referenceType"), "referenceType"),
                        text_of(ref.get("referenceLocator"), "referenceLocator"),
                    )
                )
    except FieldProblem as problem:
        return FoundComponent(number, problem=str(problem), problem_field=problem.field)
    return package.found()


# --- tag-value ----------------------------------------------------------------------------------------


@register("spdx-tag")
def read_spdx_tag(data: bytes, filename: str, *, max_bytes: int) -> SbomDocument:
    """An SPDX 2.x tag-value document (``SPDXVersion: SPDX-2.3`` and ``Tag: value`` lines)."""
    check_size(len(data), filename, max_bytes)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError("is not UTF-8 text", file=filename, line=line) from exc
    version, name, packages = _parse_tags(text, filename)
    if not version.startswith("SPDX-2"):
        shown = f'"SPDXVersion: {version}"' if version else "no SPDXVersion line"
        raise InputError(f"is not an SPDX 2 tag-value document: {shown}; expected SPDXVersion: SPDX-2.3", file=filename)
    return build_document(
        fmt="spdx-tag",
        spec_version=version.removeprefix("SPDX-"),
        name=name,
        found=(package.found() for package in packages),
        filename=filename,
    )


def _parse_tags(text: str, filename: str) -> tuple[str, str, list[_Package]]:
    """The document's SPDXVersion and DocumentName, and its packages."""
    version = name = ""
    packages: list[_Package] = []
    current: _Package | None = None
    for line, tag, value in _tag_values(text, filename):
        if tag == "SPDXVersion":
            version = value
        elif tag == "DocumentName" and not packages:
            name = value
        elif tag == "PackageName":
            current = _Package(len(packages) + 1, line=line, name=value)
            packages.append(current)
        elif tag in _ENDS_PACKAGE:
            current = None
        elif current is not None:
            _package_tag(current, tag, value)
    return version, name, packages


def _package_tag(package: _Package, tag: str, value: str) -> None:
    if tag == "PackageVersion":
        package.version = value
    elif tag == "PackageSupplier":
        package.supplier = value
    elif tag == "PrimaryPackagePurpose":
        package.purpose = value
    elif tag == "ExternalRef":
        category, ref_type, locator = (value.split(None, 2) + ["", "", ""])[:3]
        package.refs.append((category, ref_type, locator.strip()))


def _tag_values(text: str, filename: str) -> Iterator[tuple[int, str, str]]:
    """(line, tag, value) for each ``Tag: value``; a ``<text>…</text>`` value may span lines."""
    lines = iter(enumerate(text.splitlines(), start=1))
    for number, raw in lines:
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        tag, separator, value = raw.partition(":")
        if not separator:
            raise InputError('is not a "Tag: value" line', file=filename, line=number)
        value = value.strip()
        if value.startswith("<text>"):
            value = _text_block(value, lines, number, filename)
        yield number, tag.strip(), value


def _text_block(first: str, lines: Iterator[tuple[int, str]], start: int, filename: str) -> str:
    parts = [first.removeprefix("<text>")]
    while "</text>" not in parts[-1]:
        following = next(lines, None)
        if following is None:
            raise InputError(f"<text> opened on line {start} is never closed with </text>", file=filename, line=start)
        parts.append(following[1])
    return "\n".join(parts).split("</text>", 1)[0].strip()
