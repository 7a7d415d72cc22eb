"""CPE name matching (NISTIR 7696 §6): how a criterion relates to a component's name, attribute by attribute.

The *source* is a criterion as NVD publishes it: it may hold ANY (``*``), NA (``-``) and wildcards (an
unquoted ``*`` or run of ``?`` at either end of a value, ``8.*``). The *target* is a component's concrete
name. Values are compared case-insensitively (:class:`CpeName` is lower case) with backslash quoting
removed, so ``foo\\!bar`` equals ``foo!bar`` and ``\\*`` is a literal asterisk, not a wildcard.

The criterion matches the name when every attribute relation is SUPERSET or EQUAL (NISTIR 7696 §6.2,
"CPE_SUPERSET or CPE_EQUAL"). :func:`criterion_matches` applies that to every attribute but ``version``,
which the evaluator judges itself because NVD puts the version range in separate bounds and writes ``*``
or ``-`` in the criterion's version.
"""

from __future__ import annotations

import enum
import re
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
