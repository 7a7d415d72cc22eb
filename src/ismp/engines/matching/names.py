"""CPE name matching (NISTIR 7696 §6): how a criterion relates to a component's name, attribute by attribute.

The *source* is a criterion as NVD publishes it: it may hold ANY (``*``), NA (``-``) and wildcards (an
unquoted ``*`` or run of ``?`` at either end of a value, ``8.*``). The *target* is a component's concrete
name. Values are compared case-insensitively (:class:`CpeName` is lower case) with backslash quoting
removed, so ``foo\\!bar`` equals ``foo!bar`` and ``\\*`` is a literal asterisk, not a wildcard.

The criterion matches the name when every attribute relation is SUPERSET or EQUAL (NISTIR 7696 §6.2,
"CPE_SUPERSET or CPE_EQUAL"). :func:`criterion_matches` applies that to every attribute but ``version``,
which the evaluator judges itself because NVD puts the version range in separate bounds and writes ``*``
or ``-`` in the criterion's version.

Before comparing, criteria and components are put in one spelling (:func:`canonical_name`): an ``update``
keeps no separator between a word and its number (``update_45`` = ``update45``), and for the products whose
vendor writes version and update as one string (Java ``1.7.0_45``, Junos ``8.5R1.14``) the version is split
into NVD's version + update (``1.7.0`` ``update45``, ``8.5`` ``r1.14``) when the update is not given.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache

from ismp.engines.cpe import ANY, ATTRIBUTES, NA, CpeName, plain
from ismp.engines.cpe.name import UNQUOTED


class Relation(enum.Enum):
    """The NISTIR 7696 relation of a source attribute (or name) to a target's."""

    SUPERSET = "superset"  # the source's value set contains the target's
    EQUAL = "equal"
    SUBSET = "subset"  # the target is broader than the source (e.g. the target is ANY)
    DISJOINT = "disjoint"
    UNDEFINED = "undefined"  # the target itself holds wildcards: NISTIR leaves this undefined


MATCHING = frozenset({Relation.SUPERSET, Relation.EQUAL})


def quote(value: str) -> str:
    """A plain value (as a person writes it, e.g. an inventory's version ``1.0(3)``) in formatted-string
    form: lower case, every character other than letters, digits, ``-``, ``.`` and ``_`` quoted."""
    return "".join(char if char in UNQUOTED else "\\" + char for char in value.strip().lower())


def compare_attribute(source: str, target: str) -> Relation:
    """The relation of one source attribute value to one target value (NISTIR 7696 Table 6-2)."""
    if has_wildcard(target):
        return Relation.UNDEFINED
    if source == ANY:
        return Relation.EQUAL if target == ANY else Relation.SUPERSET
    if target == ANY:
        return Relation.SUBSET
    if source == NA or target == NA:
        return Relation.EQUAL if source == target else Relation.DISJOINT
    if has_wildcard(source):
        return Relation.SUPERSET if _pattern(source).fullmatch(plain(target)) else Relation.DISJOINT
    return Relation.EQUAL if plain(source) == plain(target) else Relation.DISJOINT


def compare_names(source: CpeName, target: CpeName) -> dict[str, Relation]:
    """Every attribute's relation, keyed by attribute name (``part`` … ``other``)."""
    return {name: compare_attribute(getattr(source, name), getattr(target, name)) for name in ATTRIBUTES}


def name_relation(source: CpeName, target: CpeName) -> Relation:
    """The relation of two whole names (NISTIR 7696 §6.2): DISJOINT if any attribute is, EQUAL if all are,
    SUPERSET if all are SUPERSET or EQUAL, SUBSET if all are SUBSET or EQUAL, else UNDEFINED."""
    relations = set(compare_names(source, target).values())
    if Relation.DISJOINT in relations:
        return Relation.DISJOINT
    if Relation.UNDEFINED in relations:
        return Relation.UNDEFINED
    if relations == {Relation.EQUAL}:
        return Relation.EQUAL
    if relations <= MATCHING:
        return Relation.SUPERSET
    if relations <= {Relation.SUBSET, Relation.EQUAL}:
        return Relation.SUBSET
    return Relation.UNDEFINED


def criterion_matches(criterion: CpeName, name: CpeName, *, ignore: tuple[str, ...] = ("version",)) -> bool:
    """True when the criterion is a superset of (or equal to) the name in every attribute but ``ignore``.

    Strict NISTIR 7696: a component attribute that is ANY (unknown) while the criterion names a value is
    SUBSET and does not match. The evaluator relaxes this for non-identifying attributes itself."""
    return all(
        compare_attribute(getattr(criterion, attr), getattr(name, attr)) in MATCHING
        for attr in ATTRIBUTES
        if attr not in ignore
    )


def has_wildcard(value: str) -> bool:
    """Whether a formatted-string value holds an unquoted ``*`` or ``?`` (ANY itself excluded)."""
    if value == ANY:
        return False
    escaped = False
    for char in value:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in "*?":
            return True
    return False


@lru_cache(maxsize=4096)
def _pattern(value: str) -> re.Pattern[str]:
    """A regular expression for a value with wildcards: ``*`` any run, ``?`` one character, quoted literal."""
    out: list[str] = []
    chars = iter(value)
    for char in chars:
        if char == "\\":
            out.append(re.escape(next(chars, "")))
        elif char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        else:
            out.append(re.escape(char))
    return re.compile("".join(out), re.DOTALL)


# ------------------------------------------------------------------------- one spelling of version and update

_WORD_NUMBER_SEPARATOR = re.compile(r"(?<=[a-z])[_.\-](?=[0-9])")


def canonical_update(value: str) -> str:
    """An ``update`` value in one spelling: a ``_``, ``-`` or ``.`` between a word and its number is dropped
    (``update_45`` = ``update45``, ``beta-2`` = ``beta2``, ``dev.5`` = ``dev5``); NVD uses both spellings."""
    if len(value) < 2 or ("_" not in value and "-" not in value and "." not in value):
        return value
    return _WORD_NUMBER_SEPARATOR.sub("", value)


@dataclass(frozen=True, slots=True)
class VendorFormat:
    """A vendor's way of writing version and update as one string, for products whose NVD names split them.

    ``split(version)`` gives (version, update) in NVD's spelling, or None when the version is not in this
    format; ``join(version, update)`` writes them back the vendor's way (for comparing with range bounds, which
    NVD writes the vendor's way), or None when the update is not one of this format's."""

    name: str
    split: Callable[[str], tuple[str, str] | None]
    join: Callable[[str, str], str | None]


# Java as ``java -version`` prints it (1.7.0_45, 1.5.0_11-b03) or Oracle's short form (7u45 = 1.7.0 update 45).
_JAVA = re.compile(r"([0-9]+(?:\.[0-9]+)*)(?:_|u)([0-9]+)(?:-b([0-9]+))?")
# Junos releases: 8.5R1.14, 12.2R8-S2, 15.1F6-S4, 12.1X46-D10 (NVD: 8.5 r1.14, 12.2 r8-s2, 12.1x46 d10).
_JUNOS = re.compile(r"([0-9]+\.[0-9]+(?:x[0-9]+)?)-?([a-wyz][0-9][0-9a-z.\-]*)")


def _split_java(version: str) -> tuple[str, str] | None:
    match = _JAVA.fullmatch(version)
    if match is None:
        return None
    base, number, build = match.groups()
    if base.isdigit() and int(base) <= 8:  # 7u45: Java 7 is 1.7.0
        base = f"1.{base}.0"
    return base, f"update{int(number)}" + (f"_b{build}" if build else "")


def _join_java(version: str, update: str) -> str | None:
    if not (update.startswith("update") and update[6:7].isdigit()):
        return None
    return f"{version}_{update[6:]}"


def _split_junos(version: str) -> tuple[str, str] | None:
    match = _JUNOS.fullmatch(version)
    return None if match is None else (match[1], match[2])


def _join_junos(version: str, update: str) -> str | None:
    return version + update if update[:1].isalpha() and update[1:2].isdigit() else None


JAVA = VendorFormat("Java", _split_java, _join_java)
JUNOS = VendorFormat("Junos", _split_junos, _join_junos)
# (vendor, product) as NVD names them → the format. Only products whose NVD criteria name the update apart:
# where NVD keeps the vendor's joined form in the version (ScreenOS 6.2.0r18, Cisco IOS 15.0(1)m), both
# sides already agree and nothing is split.
VENDOR_FORMATS: dict[tuple[str, str], VendorFormat] = {
    **{(vendor, product): JAVA for vendor in ("oracle", "sun") for product in ("jre", "jdk", "openjdk")},
    ("sun", "sdk"): JAVA,
    ("sun", "j2se"): JAVA,
    ("juniper", "junos"): JUNOS,
}


def canonical_name(name: CpeName) -> CpeName:
    """The name in the spelling criteria and components are compared in: the update in one spelling, and a
    version in its vendor's format split into version + update when the update is ANY (see VENDOR_FORMATS)."""
    version, update = name.version, name.update
    if update == ANY and (form := VENDOR_FORMATS.get((name.vendor, name.product))) is not None:
        split = form.split(version)
        if split is not None:
            version, update = split
    update = canonical_update(update)
    if (version, update) == (name.version, name.update):
        return name
    return replace(name, version=version, update=update)


def joined_version(name: CpeName) -> str | None:
    """The version as its vendor writes it with the update (``1.7.0_45``, ``8.5r1.14``), plain; None when the
    product has no vendor format or the name's version or update is not one of it."""
    if name.update in (ANY, NA) or name.version in (ANY, NA):
        return None
    form = VENDOR_FORMATS.get((name.vendor, name.product))
    if form is None:
        return None
    return form.join(plain(name.version), plain(name.update))
