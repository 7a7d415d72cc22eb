"""Match many systems against many vulnerabilities at once: an index of every criterion by the product it
names, and each distinct component judged once.

:func:`~ismp.engines.matching.evaluate.evaluate` answers for one vulnerability and one system. A company
has tens of thousands of systems sharing the same software, and NVD has more than a million criteria,
most of them one exact version of one product. :class:`CriteriaIndex` holds the configurations of every
vulnerability it is given and indexes each criterion (vulnerable or platform) under its (vendor, product):

* criteria naming one exact version are filed under that version's *order key* (``4.3`` and ``4.3.0``
  share one), so a component finds them with one dictionary look-up;
* criteria with a range, ``*``, ``-`` or a wildcard version are scanned for each component of the product;
* criteria whose vendor or product is ANY or a wildcard are scanned for every component.

A component (all its identifying fields: systems with the same software share the work) is judged once
against its candidates with the very rules of ``evaluate`` (:func:`~.evaluate.judge`), and the result is
kept, by vulnerability. When a vulnerability changes (``put``, ``discard``) only its own part of each
cached judgement is replaced: the components of the products it names are judged again against its
criteria alone, so a feed delta of a thousand vulnerabilities costs those vulnerabilities' criteria, not
every criterion of the products they name. A system's matches are then its components' results grouped by
vulnerability (``only`` picks a few without walking the rest); a vulnerability whose configurations are
all plain ORs takes them as they are, any other goes through the configuration tree
(:func:`~.evaluate.evaluate_with`). The result is the same as calling ``evaluate`` for every vulnerability
whose criteria name one of the system's products; a test holds the two to that, through puts and discards.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from functools import lru_cache, partial
from typing import TypeVar

from ismp.engines.cpe import ANY, CpeName, plain
from ismp.engines.feeds.base import ConfigNode, Configuration, CpeMatch, all_criteria
from ismp.engines.inventory.records import ComponentRecord
from ismp.engines.matching.evaluate import (
    CONFIDENCE_RANK,
    Match,
    criterion_name,
    evaluate_with,
    judge,
    matching_name,
)
from ismp.engines.matching.names import VENDOR_FORMATS, joined_version
from ismp.engines.versions.generic import PADDING, compare_items, tokenise_cached

Product = tuple[str, str]  # (vendor, product), plain and lower case
Entry = tuple[int, CpeMatch]  # (vulnerability key, criterion)
Items = tuple[tuple[int, int, str], ...]  # a version in the generic scheme's items
Bounds = tuple[Items | None, Items | None, Items | None, Items | None]  # start incl/excl, end incl/excl
Scanned = tuple[int, CpeMatch, Bounds | None]  # None: no range, or one the generic items cannot decide
Place = tuple[Product | None, object]  # where an entry is filed: (product or None for everywhere, version key)
Hits = dict[int, list[tuple[CpeMatch, Match]]]  # satisfied criteria by vulnerability key
_SCAN = object()  # the version key of entries scanned for every component of the product
S = TypeVar("S")  # whatever names a system for the caller


def order_key(version: str) -> object:
    """A key equal for versions the generic scheme orders as equal (``4.3`` = ``4.3.0`` = ``v4.3``)."""
    items = tokenise_cached(version)
    if items is None:
        return version.strip().lower()
    end = len(items)
    while end and items[end - 1] == PADDING:
        end -= 1
    return items[:end]


class _Judged:
    """What one component satisfies, by vulnerability: its vulnerable criteria and its platform criteria.
    Keyed by vulnerability so that a changed vulnerability replaces its own part and nothing else."""

    __slots__ = ("name", "platform", "vulnerable")

    def __init__(self, name: CpeName) -> None:
        self.name = name
        self.vulnerable: Hits = {}
        self.platform: Hits = {}


_NOTHING = _Judged(CpeName(part=ANY, vendor=ANY, product=ANY))  # a component without a name: never filled


class _Filed:
    """Criteria filed where a component looks them up: by product and exact version, by product to scan,
    or everywhere (vendor or product a pattern)."""

    def __init__(self) -> None:
        # by product, version key, then vulnerability (a popular version has hundreds)
        self.exact: dict[Product, dict[object, dict[int, list[Entry]]]] = defaultdict(lambda: defaultdict(dict))
        # by product, then by vulnerability (a popular product has thousands: one is removed without a scan)
        self.scan: dict[Product, dict[int, list[Scanned]]] = defaultdict(dict)
        self.everywhere: list[Entry] = []

    def file(self, key: int, criterion: CpeMatch) -> Place:
        name, place = _filing(criterion.criteria)
        if name is None:
            self.everywhere.append((key, criterion))
        elif (
            place is _SCAN
            or criterion.version_end_excluding
            or criterion.version_end_including
            or (criterion.version_start_including or criterion.version_start_excluding)
        ):
            self.scan[name].setdefault(key, []).append((key, criterion, _bounds(criterion)))
            return name, _SCAN
        else:
            self.exact[name][place].setdefault(key, []).append((key, criterion))
        return name, place

    def remove(self, key: int, places: Iterable[Place]) -> None:
        for product, version in places:
            if product is None:
                self.everywhere = [e for e in self.everywhere if e[0] != key]
            elif version is _SCAN:
                self.scan[product].pop(key, None)
            else:
                self.exact[product][version].pop(key, None)

    def candidates(self, product: Product, component: ComponentRecord, name: CpeName) -> list[Entry]:
        """The criteria that may hold for the component: ``judge`` decides each."""
        version = plain(name.version) if name.version not in (ANY, "-") else component.version.strip()
        items = tokenise_cached(version) if version else None
        # a criterion that leaves the update ANY compares its bounds with the vendor's whole version (judge)
        joined = joined_version(name)
        whole = tokenise_cached(joined) if joined else None
        scanned = self.scan.get(product)
        found = [
            (key, criterion)
            for entries in (scanned.values() if scanned else ())
            for key, criterion, bounds in entries
            if bounds is None
            or items is None
            or _inside(items, bounds)
            or (joined is not None and (whole is None or _inside(whole, bounds)))
        ]
        exact = self.exact.get(product)
        if exact:
            if items is not None:
                filed = exact.get(order_key(version))
                if filed:
                    found += [entry for entries in filed.values() for entry in entries]
            else:  # no comparable version: every exact criterion decides for itself (a low-confidence match)
                found += [entry for by_key in exact.values() for entries in by_key.values() for entry in entries]
        return found + self.everywhere


class CriteriaIndex:
    """The criteria of many vulnerabilities, indexed by product; see the module's docstring."""

    def __init__(self) -> None:
        self._configurations: dict[int, tuple[Configuration, ...]] = {}
        self._plain: dict[int, bool] = {}  # every configuration is an OR of criteria: no tree needed
        # a plain vulnerability naming one criterion text twice (other bounds): each criterion's place in the
        # configurations, so that the first of equally sure matches is evaluate's, not the filing order's
        self._rank: dict[int, dict[CpeMatch, int]] = {}
        self._filed = _Filed()
        self._places: dict[int, set[Place]] = {}
        self._judged: dict[Product, dict[ComponentRecord, _Judged]] = defaultdict(dict)
        self._seen: dict[ComponentRecord, _Judged] = {}  # the same judgements by component: one look-up
        # per vulnerability, its configuration tree's result for the judgements it was given (systems often
        # share them); the judgements are named by the ids of their cached Match objects
        self._trees: dict[int, dict[frozenset[int], list[Match]]] = {}

    def __contains__(self, key: int) -> bool:
        return key in self._configurations

    def __len__(self) -> int:
        return len(self._configurations)

    def put(self, key: int, configurations: Sequence[Configuration]) -> None:
        """Index one vulnerability's configurations, replacing what was indexed under ``key``.

        Only the criteria that changed are judged again: the components judged so far lose what they
        satisfied of the criteria the vulnerability no longer names and are judged against the criteria it
        names anew; everything else they satisfy (of it and of every other vulnerability) stays. A feed
        delta costs its changed criteria, not every criterion of the products it names."""
        configurations = tuple(configurations)
        before = self._configurations.get(key)
        if before == configurations:
            return  # re-published without a change of applicability: every judgement stands
        old = set(all_criteria(before)) if before is not None else set()
        criteria = set(all_criteria(configurations))
        if before is not None:
            self._filed.remove(key, self._places[key])
            self._trees.pop(key, None)
            self._rank.pop(key, None)
        self._configurations[key] = configurations
        self._plain[key] = all(_plain_configuration(c) for c in configurations)
        if self._plain[key]:
            order = [m for c in configurations for node in c.nodes for m in node.matches]
            if len({m.criteria for m in order}) < len(order):
                self._rank[key] = {m: i for i, m in reversed(list(enumerate(order)))}
        self._places[key] = {self._filed.file(key, m) for m in criteria}
        self._forget(key, old - criteria)
        added = _Filed()  # the new criteria alone, filed the same way
        places = {added.file(key, m) for m in criteria - old}
        for product, components in self._judged_of({product for product, _ in places}):
            for component, found in components.items():
                _add(found, added.candidates(product, component, found.name), component)

    def discard(self, key: int) -> None:
        """Remove one vulnerability from the index (nothing happens if it is not there)."""
        before = self._configurations.pop(key, None)
        if before is None:
            return
        del self._plain[key]
        self._rank.pop(key, None)
        self._filed.remove(key, self._places.pop(key))
        self._trees.pop(key, None)
        self._forget(key, set(all_criteria(before)))

    def match(
        self, components: Iterable[ComponentRecord], only: Collection[int] | None = None
    ) -> dict[int, list[Match]]:
        """One system's matches, by vulnerability key: what ``evaluate`` gives for each vulnerability (of
        ``only``, when given)."""
        judged = [self._judge(component) for component in components]
        return self._assemble([(found.vulnerable, found.platform) for found in judged], only)

    def match_many(
        self, systems: Mapping[S, Iterable[ComponentRecord]], only: Collection[int]
    ) -> Iterator[tuple[S, dict[int, list[Match]]]]:
        """``match`` for many systems against a few vulnerabilities: what each component satisfies of
        ``only`` is picked out once, however many systems have the component."""
        picked: dict[ComponentRecord, tuple[Hits, Hits]] = {}
        for system, components in systems.items():
            parts = []
            for component in components:
                part = picked.get(component)
                if part is None:
                    found = self._judge(component)
                    vulnerable, platform = found.vulnerable, found.platform
                    part = picked[component] = (
                        {key: vulnerable[key] for key in _keys(vulnerable, only)},
                        {key: platform[key] for key in _keys(platform, only)},
                    )
                parts.append(part)
            yield system, self._assemble(parts, None)

    def concerns(self, component: ComponentRecord, keys: Collection[int]) -> bool:
        """Whether the component satisfies a criterion (vulnerable or platform) of one of these vulnerabilities."""
        found = self._judge(component)
        return bool(_keys(found.vulnerable, keys) or _keys(found.platform, keys))

    def _assemble(self, parts: list[tuple[Hits, Hits]], only: Collection[int] | None) -> dict[int, list[Match]]:
        """A system's matches from its components' (vulnerable, platform) hits."""
        hits: dict[int, list[tuple[CpeMatch, Match]]] = defaultdict(list)
        for vulnerable, _ in parts:
            for key in _keys(vulnerable, only):
                hits[key].extend(vulnerable[key])
        trees = {key for key in hits if not self._plain[key]}
        if trees:  # the platform criteria these vulnerabilities' trees need
            for _, platform in parts:
                for key in _keys(platform, trees):
                    hits[key].extend(platform[key])
        result: dict[int, list[Match]] = {}
        for key, pairs in hits.items():  # only a vulnerability with a vulnerable criterion satisfied can apply
            if key in trees:
                matches = self._tree(key, pairs)
            else:
                if key in self._rank and len(pairs) > 1:
                    rank = self._rank[key]
                    pairs = sorted(pairs, key=lambda pair: rank[pair[0]])
                matches = [m for _, m in pairs]
                if len(matches) > 1:
                    matches = _best(matches)
            if matches:
                result[key] = matches
        return result

    # ---------------------------------------------------------------------------------------- inside

    def _tree(self, key: int, pairs: list[tuple[CpeMatch, Match]]) -> list[Match]:
        # The judgements are the cached objects of ``_judged``: their ids name them while the vulnerability's
        # entry stays (``put`` and ``discard`` drop its memo with its judgements).
        memo = self._trees.setdefault(key, {})
        ids = frozenset(id(m) for _, m in pairs)
        found = memo.get(ids)
        if found is None:
            satisfied: dict[CpeMatch, list[Match]] = defaultdict(list)
            for criterion, m in pairs:
                satisfied[criterion].append(m)
            found = memo[ids] = evaluate_with(self._configurations[key], partial(_satisfying, satisfied))
        return found

    def _forget(self, key: int, criteria: set[CpeMatch]) -> None:
        """Drop what the judged components satisfied of these criteria of the vulnerability."""
        if not criteria:
            return
        scratch = _Filed()
        places = {scratch.file(key, m) for m in criteria}
        for _, components in self._judged_of({product for product, _ in places}):
            for found in components.values():
                for side in (found.vulnerable, found.platform):
                    pairs = side.get(key)
                    if pairs:
                        kept = [pair for pair in pairs if pair[0] not in criteria]
                        if kept:
                            side[key] = kept
                        else:
                            del side[key]

    def _judged_of(self, products: set[Product | None]) -> list[tuple[Product, dict[ComponentRecord, _Judged]]]:
        """The cached judgements a change of these products' criteria concerns (None: every product)."""
        if None in products:
            return [(product, judged) for product, judged in self._judged.items() if judged]
        return [(p, self._judged[p]) for p in products if p is not None and self._judged.get(p)]

    def _judge(self, component: ComponentRecord) -> _Judged:
        """The criteria the component satisfies: the vulnerable ones, and the platform ones by vulnerability."""
        found = self._seen.get(component)
        if found is not None:
            return found
        name = matching_name(component)
        if name is None:
            found = self._seen[component] = _NOTHING
            return found
        product = (plain(name.vendor), plain(name.product))
        found = self._seen[component] = self._judged[product][component] = _Judged(name)
        _add(found, self._filed.candidates(product, component, name), component)
        return found


def _add(found: _Judged, candidates: list[Entry], component: ComponentRecord) -> None:
    """Judge the component against the candidates with the rules of ``evaluate``; keep what holds."""
    for key, criterion in candidates:
        source = criterion_name(criterion.criteria)
        if source is None or (match := judge(criterion, source, component, found.name, "generic")) is None:
            continue
        side = found.vulnerable if criterion.vulnerable else found.platform
        side.setdefault(key, []).append((criterion, match))


def _keys(hits: Hits, wanted: Collection[int] | None) -> Iterable[int]:
    """The keys of ``hits`` among ``wanted`` (all when None), walking the smaller of the two."""
    if wanted is None or not hits:
        return hits
    if isinstance(wanted, (set, frozenset)):
        return hits.keys() & wanted  # in C, over the smaller side
    if len(wanted) < len(hits):
        return [key for key in wanted if key in hits]
    return [key for key in hits if key in wanted]


def _bounds(criterion: CpeMatch) -> Bounds | None:
    """The range's bounds as generic items, or None if one of them is not a version (then ``judge`` decides)."""
    given = (
        criterion.version_start_including,
        criterion.version_start_excluding,
        criterion.version_end_including,
        criterion.version_end_excluding,
    )
    items = [tokenise_cached(bound) if bound else None for bound in given]
    if any(bound and item is None for bound, item in zip(given, items, strict=True)):
        return None
    return items[0], items[1], items[2], items[3]


def _inside(version: Items, bounds: Bounds) -> bool:
    """Whether the version lies within the bounds: exactly ``in_range`` of the generic scheme."""
    start_including, start_excluding, end_including, end_excluding = bounds
    return not (
        (start_including is not None and compare_items(version, start_including) < 0)
        or (start_excluding is not None and compare_items(version, start_excluding) <= 0)
        or (end_including is not None and compare_items(version, end_including) > 0)
        or (end_excluding is not None and compare_items(version, end_excluding) >= 0)
    )


@lru_cache(maxsize=1 << 18)
def _filing(criteria: str) -> Place:
    """Where a criterion without bounds is filed: (product, version key), or _SCAN for ``*``/``-``/pattern
    versions; (None, _SCAN) when vendor or product is a pattern; an empty product when it is not a name.
    The same criterion text recurs across thousands of CVEs: cached."""
    vendor, product, version = _identity(criteria)
    if vendor is None:  # not a CPE name: it can match nothing
        return ("", ""), _SCAN
    if is_pattern(vendor) or is_pattern(product):
        return None, _SCAN
    if version in (ANY, "-") or is_pattern(version):
        return (vendor, product), _SCAN
    return (vendor, product), order_key(plain(version))


def _identity(criteria: str) -> tuple[str | None, str, str]:
    """(vendor, product, version) of a criterion, plain and lower case; vendor None if it does not parse."""
    if "\\" not in criteria:
        parts = criteria.split(":")
        if len(parts) == 13 and parts[0] == "cpe" and parts[1] == "2.3":
            vendor, product = parts[3].lower(), parts[4].lower()
            if (vendor, product) not in VENDOR_FORMATS:  # else the version may be split: the long way
                return vendor, product, parts[5].lower()
    name = criterion_name(criteria)
    if name is None:
        return None, "", ""
    return plain(name.vendor), plain(name.product), name.version


def is_pattern(value: str) -> bool:
    """ANY, or a value holding * or ?: it names more than one vendor, product or version."""
    return value == ANY or "*" in value or "?" in value


def _plain_configuration(configuration: Configuration) -> bool:
    """An OR (or a single part) all the way down, nothing negated: its hits are its satisfied criteria."""
    return (
        not configuration.negate
        and (configuration.operator.upper() == "OR" or len(configuration.nodes) == 1)
        and all(_plain_node(node) for node in configuration.nodes)
    )


def _plain_node(node: ConfigNode) -> bool:
    return not node.negate and not node.children and (node.operator.upper() == "OR" or len(node.matches) == 1)


def _satisfying(satisfied: dict[CpeMatch, list[Match]], criterion: CpeMatch) -> list[Match]:
    return satisfied.get(criterion, [])


def _best(matches: list[Match]) -> list[Match]:
    """Each (criterion, component) once, the most confident kept."""
    kept: dict[tuple[str, ComponentRecord], Match] = {}
    for match in matches:
        key = (match.criterion, match.component)
        if key not in kept or CONFIDENCE_RANK[match.confidence] > CONFIDENCE_RANK[kept[key].confidence]:
            kept[key] = match
    return list(kept.values())
