"""Build one validated, normalised :class:`ComponentRecord` from the values a reader found.

Every reader (ledger rows, CycloneDX, SPDX) goes through :func:`make_component`, so a component means the
same thing whatever file it came from:

* ``cpe`` is parsed (2.3 formatted string or 2.2 URI) and stored as its 2.3 formatted string;
* ``purl`` is parsed with packageurl-python and stored in canonical form;
* ``part``/``vendor``/``product``/``version`` given explicitly win; missing ones are taken from the CPE
  (ANY becomes ``""``), or else from the purl (vendor = namespace, product = name, part ``a``).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from packageurl import PackageURL

from ismp.engines.cpe import CpeName, CpeSyntaxError, parse_cpe, plain
from ismp.engines.inventory.records import ComponentRecord
from ismp.errors import InputError

# What people write in a part column, after NFKC and case folding, mapped to the CPE part letter.
PART_ALIASES: dict[str, str] = {
    "a": "a",
    "app": "a",
    "application": "a",
    "アプリ": "a",
    "アプリケーション": "a",
    "ソフトウェア": "a",
    "o": "o",
    "os": "o",
    "operating system": "o",
    "operating-system": "o",
    "operating_system": "o",
    "オペレーティングシステム": "o",
    "h": "h",
    "hw": "h",
    "hardware": "h",
    "ハードウェア": "h",
    "機器": "h",
}


def make_component(
    *,
    line: int | None,
    file: str,
    cpe: str = "",
    purl: str = "",
    part: str = "",
    vendor: str = "",
    product: str = "",
    version: str = "",
) -> ComponentRecord:
    """Validate and normalise one component; raise :class:`InputError` naming file, line and field."""
    try:
        fields = _normalised(cpe.strip(), purl.strip(), part, vendor.strip(), product.strip(), version.strip())
    except InputError as exc:
        raise InputError(exc.reason, file=file, line=line, field=exc.location.field) from None
    return ComponentRecord(line or 0, *fields)


@lru_cache(maxsize=65536)
def _normalised(
    cpe: str, purl: str, part: str, vendor: str, product: str, version: str
) -> tuple[str, str, str, str, str, str]:
    """(cpe, purl, part, vendor, product, version) normalised; cached, as ledgers repeat the same software."""
    file, line = "", None
    name = _parse_cpe(cpe, file=file, line=line)
    package = _parse_purl(purl, file=file, line=line)
    given_part = _normalise_part(part, file=file, line=line)
    if name is None and package is None and not product:
        raise InputError(
            "a component needs a cpe, a purl or a product name; fill in at least one of them", field="product"
        )
    if name is not None and given_part and name.part in ("a", "o", "h") and given_part != name.part:
        raise InputError(
            f'part "{given_part}" disagrees with the CPE\'s part "{name.part}"; '
            "correct one of them or leave part empty to take it from the CPE",
            field="part",
        )
    derived = _derived(name, package)
    return (
        name.formatted() if name else "",
        package.to_string() if package else "",
        given_part or derived["part"],
        vendor or derived["vendor"],
        product or derived["product"],
        version or derived["version"],
    )


def _parse_cpe(text: str, *, file: str, line: int | None) -> CpeName | None:
    if not text:
        return None
    try:
        return parse_cpe(text)
    except CpeSyntaxError as exc:
        raise InputError(str(exc), file=file, line=line, field="cpe") from exc


def _parse_purl(text: str, *, file: str, line: int | None) -> PackageURL | None:
    if not text:
        return None
    try:
        package = PackageURL.from_string(text)
        package.to_string()
    except ValueError as exc:
        shown = text if len(text) <= 200 else text[:200] + "…"
        raise InputError(
            f'"{shown}" is not a valid package URL ({exc}); expected pkg:type/namespace/name@version, '
            "e.g. pkg:npm/lodash@4.17.21",
            file=file,
            line=line,
            field="purl",
        ) from exc
    return package


def _normalise_part(text: str, *, file: str, line: int | None) -> str:
    key = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    if not key:
        return ""
    if key in PART_ALIASES:
        return PART_ALIASES[key]
    raise InputError(
        f'part "{text.strip()}" is not valid; expected a (application), o (operating system) or h (hardware)',
        file=file,
        line=line,
        field="part",
    )


def _derived(name: CpeName | None, package: PackageURL | None) -> dict[str, str]:
    """The part, vendor, product and version a CPE (preferred) or a purl gives."""
    if name is not None:
        return {
            "part": name.part if name.part in ("a", "o", "h") else "",
            "vendor": plain(name.vendor),
            "product": plain(name.product),
            "version": plain(name.version),
        }
    if package is not None:
        return {
            "part": "a",
            "vendor": package.namespace or "",
            "product": package.name or "",
            "version": package.version or "",
        }
    return {"part": "", "vendor": "", "product": "", "version": ""}
