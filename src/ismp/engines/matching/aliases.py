"""Vendor and product aliases: the names other sources give to an NVD CPE vendor and product.

NVD names software as CPE ``vendor:product`` (``apache:struts``); JVN, KEV and CNAs writing CVE JSON 5
use the names people write ("Apache Software Foundation" / "Apache Struts", "Microsoft Corporation",
"三菱電機"). :class:`AliasTable` maps such names to the NVD vendor and product, so that names from
different sources can be compared:

>>> table = AliasTable([Alias("apache software foundation", "apache struts", "apache", "struts")])
>>> table.canonical("Apache Software Foundation", "Apache Struts")
('apache', 'struts')

Every name is first put through :func:`normalise` (NFKC, case, corporate suffixes, separators). An alias
entry without a product applies to every product of that vendor; an entry with a product wins over it.
Names the table does not know come back normalised, so two sources' names are compared by comparing
``canonical(...)`` of both sides — never a ``canonical`` result with a raw CPE value.

:func:`builtin_table` reads the table shipped with ISMP (``aliases.csv`` beside this module, derived from
the real feeds; its header says how).
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

# Corporate-form words dropped from the end (and, for the Japanese forms, from the start) of a vendor
# name, after NFKC and case folding. Only whole words: "cisco systems" keeps "systems".
_SUFFIXES = (
    "incorporated",
    "inc",
    "corporation",
    "corp",
    "company",
    "co",
    "limited",
    "ltd",
    "llc",
    "l.l.c",
    "plc",
    "gmbh",
    "ag",
    "s.a",
    "sa",
    "s.p.a",
    "b.v",
    "bv",
    "k.k",
    "kk",
    "pty",
    "oy",
    "se",
    "nv",
    "n.v",
    "srl",
    "s.r.l",
    "ab",
    "as",
)
_JAPANESE_FORMS = ("株式会社", "有限会社", "合同会社", "合資会社", "合名会社", "(株)", "(有)", "㈱", "㈲")
_SUFFIX = re.compile(r"(?:[\s,]+(?:" + "|".join(re.escape(s) for s in _SUFFIXES) + r")\.?)+$")
_SEPARATORS = re.compile(r"[\s_\-]+")
_TRIM = re.compile(r"^[\s,.;:_\-]+|[\s,.;:_\-]+$")


@lru_cache(maxsize=65536)
def normalise(name: str) -> str:
    """A vendor or product name in the one form aliases are compared in.

    NFKC (full-width letters and digits become ASCII), case folded, corporate forms removed ("Inc.",
    "Corporation", "Co., Ltd.", "株式会社" …), runs of spaces, underscores and hyphens become one ``_``,
    CPE backslash quoting removed: ``"Microsoft Corporation"`` → ``"microsoft"``, ``"Apache HTTP Server"``
    → ``"apache_http_server"``, ``"サイボウズ株式会社"`` → ``"サイボウズ"``, ``"http-server"`` →
    ``"http_server"``. A name that is nothing but a corporate form is kept rather than emptied."""
    text = unicodedata.normalize("NFKC", name).casefold().replace("\\", "")
    text = " ".join(text.split())
    for form in _JAPANESE_FORMS:
        text = text.replace(form, " ")
    stripped = _SUFFIX.sub("", " " + text).strip()
    text = stripped or text
    text = _TRIM.sub("", text)
    return _SEPARATORS.sub("_", text)


def strip_vendor(product: str, *vendors: str) -> str:
    """A normalised product without a leading normalised vendor name (``apache_struts`` → ``struts``);
    a product that is nothing but the vendor's name is kept (``openssl``)."""
    for vendor in vendors:
        if vendor and product.startswith(vendor + "_") and len(product) > len(vendor) + 1:
            return product[len(vendor) + 1 :]
    return product


@dataclass(frozen=True, slots=True)
class Alias:
    """One entry: a source's vendor (and product, or ``""`` for every product of that vendor) → the NVD
    CPE vendor and product (``""``: keep the product as given, normalised). ``source`` says where it was
    seen ("kev", "cve5", "jvn", "debian", "osv", "csirt" …)."""

    alias_vendor: str
    alias_product: str
    vendor: str
    product: str = ""
    source: str = ""
    note: str = ""


class AliasTable:
    """Look-up from any source's vendor/product names to the NVD CPE vendor and product.

    Built from :class:`Alias` entries; later entries win over earlier ones with the same names, so a
    CSIRT's own entries are passed after the built-in ones."""

    def __init__(self, entries: Iterable[Alias] = ()) -> None:
        self._vendors: dict[str, str] = {}
        self._products: dict[tuple[str, str], tuple[str, str]] = {}
        self._entries: list[Alias] = []
        for entry in entries:
            self.add(entry)

    def add(self, entry: Alias) -> None:
        vendor = normalise(entry.alias_vendor)
        if not vendor or not entry.vendor.strip():
            raise ValueError(f"alias {entry!r} needs an alias vendor and a canonical vendor")
        self._entries.append(entry)
        canonical_vendor = entry.vendor.strip().lower()
        if entry.alias_product.strip():
            product = entry.product.strip().lower() or normalise(entry.alias_product)
            self._products[(vendor, normalise(entry.alias_product))] = (canonical_vendor, product)
        else:
            self._vendors[vendor] = canonical_vendor

    def canonical(self, vendor: str, product: str) -> tuple[str, str]:
        """The comparison key of a source's vendor and product: two names stand for the same NVD product
        when their keys are equal. Stable API: the matching engine compares names across sources with it,
        always ``canonical(a) == canonical(b)``, never a key with a raw CPE value.

        The names are first resolved through the table (:meth:`lookup`), then normalised, and a product
        that starts with its vendor's name loses it, as sources differ in whether they repeat the vendor:
        KEV's ("Linux", "Kernel"), NVD's ``linux:linux_kernel`` → ``("linux", "kernel")``; a CNA's
        ("Apache Software Foundation", "Apache Struts") and NVD's ``apache:struts`` → ``("apache",
        "struts")``; NVD's ``paloaltonetworks:pan-os`` and KEV's ("Palo Alto Networks", "PAN-OS") →
        ``("paloaltonetworks", "pan_os")``."""
        found = self.lookup(vendor, product)
        v, p = found if found is not None else (vendor, product)
        key_vendor = normalise(v)
        return key_vendor, strip_vendor(normalise(p), key_vendor)

    def lookup(self, vendor: str, product: str) -> tuple[str, str] | None:
        """The NVD ``(vendor, product)`` the table says these names are, or None when it knows neither.

        A product alias wins (both NVD names as the table writes them); else a vendor alias renames the
        vendor, and the product comes back normalised without a leading vendor name."""
        v, p = normalise(vendor), normalise(product)
        found = self._products.get((v, p))
        if found is not None:
            return found
        renamed = self._vendors.get(v)
        if renamed is None:
            return None
        found = self._products.get((normalise(renamed), p))
        return found if found is not None else (renamed, strip_vendor(p, v, normalise(renamed)))

    def vendor(self, vendor: str) -> str:
        """The NVD vendor a vendor name stands for (normalised when unknown)."""
        v = normalise(vendor)
        return self._vendors.get(v, v)

    def knows(self, vendor: str, product: str = "") -> bool:
        """Whether the table has an entry for this vendor (and product)."""
        v = normalise(vendor)
        return (v, normalise(product)) in self._products if product else v in self._vendors

    def __iter__(self) -> Iterator[Alias]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


def read_aliases(lines: Iterable[str], source: str = "aliases.csv") -> list[Alias]:
    """Entries from CSV text with the columns ``alias_vendor,alias_product,vendor,product,source,note``;
    lines starting with ``#`` are comments. A malformed row raises ValueError naming its line."""
    kept = [(number, line) for number, line in enumerate(lines, 1) if not line.lstrip().startswith("#")]
    entries = []
    reader = csv.DictReader(line for _, line in kept)
    for row in reader:
        if not any((v or "").strip() for v in row.values()):
            continue
        values = {k: (row.get(k) or "").strip() for k in ("alias_vendor", "alias_product", "vendor", "product")}
        if not values["alias_vendor"] or not values["vendor"]:
            line = kept[reader.line_num - 1][0]
            raise ValueError(f"{source} line {line}: alias_vendor and vendor are required")
        entries.append(Alias(**values, source=(row.get("source") or "").strip(), note=(row.get("note") or "").strip()))
    return entries


@cache
def builtin_aliases() -> tuple[Alias, ...]:
    """The entries shipped in ``aliases.csv``."""
    text = resources.files("ismp.engines.matching").joinpath("aliases.csv").read_text(encoding="utf-8")
    return tuple(read_aliases(text.splitlines(), "ismp/engines/matching/aliases.csv"))


def builtin_table() -> AliasTable:
    """A new table holding the built-in entries (add a CSIRT's own with :meth:`AliasTable.add`)."""
    return AliasTable(builtin_aliases())
