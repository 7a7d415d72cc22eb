"""Evaluate NVD configurations against one system's whole component set and explain every match.

A configuration is a tree (NVD API 2.0 ``configurations[]``; the 1.1 feeds have one implicit OR over
their nodes). Each node joins its criteria and child nodes with ``operator`` (AND/OR) and may be
negated. A criterion is *satisfied* when some component of the system matches it. Criteria with
``vulnerable: false`` describe the platform a product runs on: they must be satisfied for an AND to hold,
but the platform itself is never reported as vulnerable. A negated node contributes no matches of its own:
what is inside it is what the configuration excludes.

Confidence of a reported :class:`Match`:

* ``high``   the component's version lies within the criterion's explicit bounds, or equals its version;
* ``medium`` the component has a version (NA ``-`` included) but the criterion is version ANY (``*``) or NA
  (``-``) without bounds — every version matches, the classic false positive; or the component leaves an
  attribute the criterion names unknown (``*``), e.g. ``update`` or ``part``;
* ``low``    the component has no version, or its version cannot be compared with the bounds (the
  version engine returned None). Such matches are reported — never dropped and never ``high`` — so that a
  person confirms them.

A vulnerable match is never more confident than the weakest platform or sibling criterion the
configuration needed (an AND is as strong as its weakest part).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Literal

from ismp.engines.cpe import ANY, ATTRIBUTES, NA, CpeName, CpeSyntaxError, parse_cpe, plain
from ismp.engines.feeds.base import ConfigNode, Configuration, CpeMatch
from ismp.engines.inventory.records import ComponentRecord
from ismp.engines.matching.names import (
    MATCHING,
    VENDOR_FORMATS,
    Relation,
    canonical_name,
    compare_attribute,
    has_wildcard,
    joined_version,
    quote,
)

Confidence = Literal["high", "medium", "low"]
CONFIDENCE_RANK: dict[Confidence, int] = {"low": 0, "medium": 1, "high": 2}  # how sure, comparable
_BY_RANK: tuple[Confidence, ...] = ("low", "medium", "high")
_IDENTIFYING = ("vendor", "product")  # part may be unknown: a ledger row often has no part
_NAME_ATTRIBUTES = tuple(a for a in ATTRIBUTES if a != "version")
_WILDCARD_REASON = (
    "the criterion's version is {version} without bounds: it matches every version of the product, "
    "the classic false positive; confirm that version {component_version} is affected"
)


@dataclass(frozen=True, slots=True)
class Match:
    """A vulnerable criterion satisfied by one component of the system, with why and how sure."""

    criterion: str  # the applicability statement matched: a CPE criterion, or an affected-range text
    component: ComponentRecord
    confidence: Confidence
    reason: str  # why this confidence, in a sentence
    evidence: str  # the criterion, the bounds, the version and the component, e.g. "… ∋ 4.3 (component …)"


MatchesOf = Callable[[CpeMatch], list["Match"]]


def evaluate(
    configurations: Sequence[Configuration],
    components: Sequence[ComponentRecord],
    *,
    scheme: str = "generic",
) -> list[Match]:
    """Every vulnerable criterion that one system's components satisfy in a configuration that applies.

    ``configurations`` are one vulnerability's; ``components`` are one system's. Matches are in the order
    of the configurations and criteria, each (criterion, component) pair once."""
    return evaluate_with(configurations, _System(components, scheme).matches)


def evaluate_with(configurations: Sequence[Configuration], matches_of: MatchesOf) -> list[Match]:
    """:func:`evaluate` with the criterion look-up given: ``matches_of(criterion)`` returns the system's
    components satisfying it (vulnerable or not), as :class:`Match`. The index of many systems uses this."""
    found: dict[tuple[str, ComponentRecord], Match] = {}
    for configuration in configurations:
        outcome = _negate(
            _combine(configuration.operator, [_node(n, matches_of) for n in configuration.nodes]),
            configuration.negate,
        )
        if not outcome.satisfied:
            continue
        for match in outcome.hits:
            capped = _cap(match, outcome.floor)
            key = (capped.criterion, capped.component)
            if key not in found or CONFIDENCE_RANK[capped.confidence] > CONFIDENCE_RANK[found[key].confidence]:
                found[key] = capped
    return list(found.values())


def match_criterion(criterion: CpeMatch, component: ComponentRecord, *, scheme: str = "generic") -> Match | None:
    """Whether one component satisfies one criterion (vulnerable or not), as a :class:`Match`, else None."""
    source = criterion_name(criterion.criteria)
    target = matching_name(component)
    if source is None or target is None:
        return None
    return judge(criterion, source, component, target, scheme)


def component_name(component: ComponentRecord) -> CpeName | None:
    """The component's CPE name: its ``cpe`` if valid, else one built from part/vendor/product/version."""
    if component.cpe:
        try:
            return parse_cpe(component.cpe)
        except CpeSyntaxError:
            return None
    if not (component.vendor and component.product):
        return None
    part = component.part.strip().lower()[:1] or ANY
    return CpeName(
        part=part if part in ("a", "o", "h") else ANY,
        vendor=quote(component.vendor.replace(" ", "_")),
        product=quote(component.product.replace(" ", "_")),
        version=quote(component.version) if component.version.strip() else ANY,
    )


def matching_name(component: ComponentRecord) -> CpeName | None:
    """The component's name as criteria are compared with it: :func:`component_name` with the version column
    standing in for a CPE version ANY, in :func:`~.names.canonical_name`'s spelling (``8.5R1.14`` → version
    ``8.5`` update ``r1.14``). ``component_name`` keeps the name as written, for other statements (affected[])."""
    return _read(component)[0]


@lru_cache(maxsize=65536)
def _read(component: ComponentRecord) -> tuple[CpeName | None, str]:
    """The matching name, and how a vendor-format version was read (empty if it was not split)."""
    name = component_name(component)
    if name is None:
        return None, ""
    if name.version == ANY and component.version.strip():
        name = replace(name, version=quote(component.version))
    read = canonical_name(name)
    if read.version == name.version:
        return read, ""
    form = VENDOR_FORMATS[(name.vendor, name.product)]
    return read, f"{form.name} {plain(name.version)} read as version {plain(read.version)}, update {plain(read.update)}"


# --------------------------------------------------------------------------------------- one criterion


def judge(
    criterion: CpeMatch, source: CpeName, component: ComponentRecord, target: CpeName, scheme: str
) -> Match | None:
    """Whether ``component`` (named ``target``) satisfies ``criterion`` (named ``source``), and how surely."""
    unknown: list[str] = []
    concrete = _concrete(target)
    for attr in _NAME_ATTRIBUTES:
        wanted, given = getattr(source, attr), getattr(target, attr)
        if concrete and wanted in (ANY, given):  # SUPERSET or EQUAL, without the long way
            continue
        relation = compare_attribute(wanted, given)
        if relation in MATCHING:
            continue
        if relation is Relation.SUBSET and attr not in _IDENTIFYING:
            unknown.append(attr)  # the component does not say; the criterion does
            continue
        return None
    match = _judge_version(criterion, source, component, target, scheme)
    if match is None or not unknown:
        return match
    note = "the component leaves " + ", ".join(
        f"{attr} unknown (*) where the criterion requires {plain(getattr(source, attr))}" for attr in unknown
    )
    return replace(
        match,
        confidence=_BY_RANK[min(CONFIDENCE_RANK[match.confidence], CONFIDENCE_RANK["medium"])],
        reason=f"{match.reason}; {note}",
    )


def _judge_version(
    criterion: CpeMatch, source: CpeName, component: ComponentRecord, target: CpeName, scheme: str
) -> Match | None:
    from ismp.engines.versions import compare, in_range

    version = _version(component, target)
    bounds = _bounds(criterion)
    where = criterion.criteria

    def make(confidence: Confidence, reason: str, evidence: str) -> Match:
        return Match(where, component, confidence, reason, f"{where} {evidence} {_label(component, target)}")

    if bounds:
        if source.update == ANY and target.update != ANY and (joined := joined_version(target)) is not None:
            version = joined  # the criterion does not name the update: its bounds are the vendor's whole version
        text = ", ".join(f"{key} {value}" for key, value in bounds)
        if not version:
            return make("low", f"the component has no version; the range {text} cannot be checked", f"{text} ∋ ?")
        inside = in_range(
            version,
            start_including=criterion.version_start_including,
            start_excluding=criterion.version_start_excluding,
            end_including=criterion.version_end_including,
            end_excluding=criterion.version_end_excluding,
            scheme=scheme,
        )
        if inside is None:
            return make(
                "low",
                f"version {version} cannot be compared with the range {text} ({scheme} scheme); confirm by hand",
                f"{text} ∋? {version}",
            )
        if not inside:
            return None
        return make("high", f"version {version} lies within {text}", f"{text} ∋ {version}")

    if source.version in (ANY, NA):
        if not criterion.vulnerable:
            return make("high", "the platform is present (the criterion asks for any version)", "is present")
        if source.version == NA and target.version == NA:
            return make("high", "criterion and component both have version - (not applicable)", "= -")
        if not version and target.version == NA and source.version == ANY:
            version = "- (NA)"  # stated, not unknown: the unbounded wildcard case
        if not version:
            return make("low", "the component has no version and the criterion gives none", "(any version)")
        shown = "* (ANY)" if source.version == ANY else "- (NA)"
        return make(
            "medium",
            _WILDCARD_REASON.format(version=shown, component_version=version),
            f"version {shown} without bounds ∋ {version} (wildcard)",
        )

    wanted = plain(source.version)
    if not version:
        return make("low", f"the component has no version; the criterion names version {wanted}", f"= {wanted} ?")
    relation = compare_attribute(source.version, quote(version))
    if relation is Relation.EQUAL:
        return make("high", f"version {version} is the criterion's version", f"= {version}")
    if relation is Relation.SUPERSET:
        return make("high", f"version {version} matches the criterion's pattern {wanted}", f"≈ {version}")
    if compare(wanted, version, scheme=scheme) == 0:
        return make("high", f"version {version} equals {wanted} in version order ({scheme})", f"= {version}")
    return None


def _version(component: ComponentRecord, target: CpeName) -> str:
    if target.version not in (ANY, NA):
        return plain(target.version)
    return component.version.strip()


@lru_cache(maxsize=65536)
def _label(component: ComponentRecord, target: CpeName) -> str:
    shown = component.cpe or target.formatted()
    note = _read(component)[1]
    return f"(component {shown}, {note})" if note else f"(component {shown})"


def _bounds(criterion: CpeMatch) -> list[tuple[str, str]]:
    pairs = (
        ("versionStartIncluding", criterion.version_start_including),
        ("versionStartExcluding", criterion.version_start_excluding),
        ("versionEndIncluding", criterion.version_end_including),
        ("versionEndExcluding", criterion.version_end_excluding),
    )
    return [(key, value) for key, value in pairs if value]


@lru_cache(maxsize=65536)
def _concrete(name: CpeName) -> bool:
    """No wildcard in any attribute (a wildcard in a component's name makes relations undefined)."""
    return not any(has_wildcard(getattr(name, attr)) for attr in ATTRIBUTES)


@lru_cache(maxsize=65536)
def criterion_name(criteria: str) -> CpeName | None:
    """The criterion's name in :func:`~.names.canonical_name`'s spelling, or None if it is not a CPE name."""
    try:
        return canonical_name(parse_cpe(criteria))
    except CpeSyntaxError:
        return None


# ------------------------------------------------------------------------------------------- the tree


@dataclass(frozen=True, slots=True)
class _Outcome:
    satisfied: bool
    hits: tuple[Match, ...] = ()  # matches of vulnerable criteria that made it true
    floor: int = CONFIDENCE_RANK["high"]  # the weakest confidence the outcome needed


_UNSATISFIED = _Outcome(False)


class _System:
    """One system's components, indexed by (vendor, product) for the criteria that name both."""

    def __init__(self, components: Iterable[ComponentRecord], scheme: str) -> None:
        self.scheme = scheme
        self.named: list[tuple[ComponentRecord, CpeName]] = []
        self.by_product: dict[tuple[str, str], list[tuple[ComponentRecord, CpeName]]] = defaultdict(list)
        for component in components:
            name = matching_name(component)
            if name is None:
                continue
            self.named.append((component, name))
            self.by_product[(plain(name.vendor), plain(name.product))].append((component, name))

    def candidates(self, source: CpeName) -> list[tuple[ComponentRecord, CpeName]]:
        if not any(v == ANY or has_wildcard(v) for v in (source.vendor, source.product)):
            return self.by_product.get((plain(source.vendor), plain(source.product)), [])
        return self.named  # ANY or a wildcard in vendor or product

    def matches(self, criterion: CpeMatch) -> list[Match]:
        source = criterion_name(criterion.criteria)
        if source is None:
            return []
        return [
            match
            for component, name in self.candidates(source)
            if (match := judge(criterion, source, component, name, self.scheme)) is not None
        ]


def _criterion(criterion: CpeMatch, matches_of: MatchesOf) -> _Outcome:
    matches = matches_of(criterion)
    if not matches:
        return _UNSATISFIED
    floor = max(CONFIDENCE_RANK[m.confidence] for m in matches)
    return _Outcome(True, tuple(matches) if criterion.vulnerable else (), floor)


def _node(node: ConfigNode, matches_of: MatchesOf) -> _Outcome:
    parts = [_criterion(m, matches_of) for m in node.matches] + [_node(c, matches_of) for c in node.children]
    return _negate(_combine(node.operator, parts), node.negate)


def _combine(operator: str, parts: list[_Outcome]) -> _Outcome:
    """AND: all parts hold (an empty AND does not), as strong as the weakest; OR: any, as strong as the best."""
    if operator.upper() == "AND":
        if not parts or not all(p.satisfied for p in parts):
            return _UNSATISFIED
        held = parts
        floor = min(p.floor for p in held)
    else:
        held = [p for p in parts if p.satisfied]
        if not held:
            return _UNSATISFIED
        floor = max(p.floor for p in held)
    return _Outcome(True, tuple(hit for p in held for hit in p.hits), floor)


def _negate(outcome: _Outcome, negate: bool) -> _Outcome:
    """A negated node holds when its content does not, and then reports nothing of its own."""
    if not negate:
        return outcome
    return _UNSATISFIED if outcome.satisfied else _Outcome(True)


def _cap(match: Match, floor: int) -> Match:
    if CONFIDENCE_RANK[match.confidence] <= floor:
        return match
    confidence = _BY_RANK[floor]
    return replace(
        match,
        confidence=confidence,
        reason=f"{match.reason}; the configuration also needs a platform or sibling criterion matched only "
        f"with {confidence} confidence",
    )
