"""CPE suggestions for a component registered without a CPE.

NVD criteria name software as CPE ``vendor:product``; an inventory often has only a free-text vendor and
product ("Apache Software Foundation" / "Struts") or a package URL (``pkg:maven/org.apache.struts/
struts2-core``). :func:`suggest_cpes` proposes the NVD names such a component most likely is, best first,
each with a score and a reason, from

1. the alias table (:mod:`.aliases`): a known alias is the best evidence there is;
2. hints read from the purl: the ecosystem's naming customs (Maven group ids are reversed domains,
   Debian source packages carry version numbers, npm scopes and Go module paths name their owner);
3. token and trigram similarity against a :class:`ProductDictionary` of the (vendor, product) pairs NVD
   knows, looked up through an inverted index of name tokens so that ~30k products answer in a few ms.

A suggestion is a proposal for a person to accept, never applied on its own.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, lru_cache

from packageurl import PackageURL

from ismp.engines.cpe import ANY, CpeName
from ismp.engines.inventory.records import ComponentRecord
from ismp.engines.matching.aliases import AliasTable, builtin_table, normalise, strip_vendor
from ismp.engines.matching.names import quote

# Words a package name adds to the product's own name: struts2-core, spring-webmvc-api …
_PACKAGING_WORDS = frozenset(
    {"core", "api", "impl", "common", "commons", "client", "server", "parent", "bin", "utils", "lib", "dev"}
)
# First labels of a reversed domain that say nothing about the vendor (org.apache → apache).
_DOMAIN_ROOTS = frozenset({"org", "com", "net", "io", "de", "jp", "uk", "fr", "edu", "gov", "co", "dev", "me", "info"})
# Hosts of Go modules and the like, whose next path segment is the owner.
_CODE_HOSTS = frozenset({"github.com", "gitlab.com", "bitbucket.org", "golang.org", "gopkg.in", "go.googlesource.com"})
_TOKEN_SPLIT = re.compile(r"[_.\-/+:]+")
_TRAILING_DIGITS = re.compile(r"(?<=[a-z])\d+$")
_VERSIONED_PACKAGE = re.compile(r"^(?P<name>.*?[a-z])-?\d+(?:\.\d+)*$")  # gcc-3.3, libssl1.1, python3.11
_MAX_POSTINGS = 4000  # tokens more common than this (server, plugin …) only rank, never gather
_MAX_CANDIDATES = 200
Offer = Callable[[str, str, float, str], None]  # (vendor, product, score, why)
_SMALL_VENDOR = 60  # a vendor with no more products than this has them all considered


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A proposed CPE for a component: the NVD vendor and product, the CPE 2.3 name built from them and
    the component's version, how sure (0–1) and why."""

    vendor: str
    product: str
    cpe: str
    score: float
    why: str


@dataclass(frozen=True, slots=True)
class Hint:
    """A (vendor, product) the component's names suggest; vendor ``""`` when unknown."""

    vendor: str
    product: str
    weight: float
    origin: str


def tokens(name: str) -> set[str]:
    """The index tokens of a normalised name: its words, and each word without trailing digits."""
    words = {w for w in _TOKEN_SPLIT.split(name) if w}
    return words | {_TRAILING_DIGITS.sub("", w) for w in words if len(w) > 3}


@lru_cache(maxsize=131072)
def trigrams(name: str) -> frozenset[str]:
    padded = f"  {name} "
    return frozenset(padded[i : i + 3] for i in range(len(padded) - 2))


def similarity(a: str, b: str) -> float:
    """Trigram Jaccard similarity of two normalised names, 1.0 when equal."""
    if a == b:
        return 1.0
    x, y = trigrams(a), trigrams(b)
    return len(x & y) / len(x | y) if x and y else 0.0


class ProductDictionary:
    """The (vendor, product) pairs NVD names, indexed for suggestions. ``weight`` (e.g. how many
    vulnerabilities name the pair) breaks ties between equally similar names."""

    def __init__(self, pairs: Iterable[tuple[str, str] | tuple[str, str, int]]) -> None:
        self.vendors: list[str] = []
        self.products: list[str] = []
        self.normalised: list[str] = []  # the product, normalised and without a leading vendor name
        self.weights: list[int] = []
        self._by_token: dict[str, list[int]] = defaultdict(list)
        self._by_vendor: dict[str, list[int]] = defaultdict(list)
        self._known: set[tuple[str, str]] = set()
        for pair in pairs:
            vendor, product = pair[0].strip().lower(), pair[1].strip().lower()
            if not vendor or not product or (vendor, product) in self._known:
                continue
            self._known.add((vendor, product))
            i = len(self.vendors)
            self.vendors.append(vendor)
            self.products.append(product)
            short = strip_vendor(normalise(product), normalise(vendor))
            self.normalised.append(short)
            self.weights.append(int(pair[2]) if len(pair) > 2 else 1)
            for token in tokens(short):
                self._by_token[token].append(i)
            self._by_vendor[normalise(vendor)].append(i)

    def __len__(self) -> int:
        return len(self.vendors)

    def __contains__(self, pair: object) -> bool:
        return pair in self._known

    def candidates(self, vendor: str, product: str) -> list[int]:
        """Entries sharing a product token with ``product`` (most shared tokens first), and all of a small
        vendor's products."""
        shared: Counter[int] = Counter()
        postings = sorted((self._by_token.get(t, []) for t in tokens(product)), key=len)
        for i, found in enumerate(postings):
            if i > 0 and len(found) > _MAX_POSTINGS:
                break
            shared.update(found)
        chosen = [i for i, _ in shared.most_common(_MAX_CANDIDATES)]
        by_vendor = self._by_vendor.get(vendor, []) if vendor else []
        if len(by_vendor) <= _SMALL_VENDOR:
            chosen.extend(by_vendor)
        return chosen


def suggest_cpes(
    component: ComponentRecord,
    dictionary: ProductDictionary,
    limit: int = 5,
    *,
    aliases: AliasTable | None = None,
) -> list[Suggestion]:
    """Up to ``limit`` CPE names for a component that has none, best first; [] when it has a CPE or
    nothing to go on. ``aliases`` defaults to the built-in table."""
    if component.cpe.strip():
        return []
    table = aliases if aliases is not None else _builtin()
    best: dict[tuple[str, str], Suggestion] = {}

    def offer(vendor: str, product: str, score: float, why: str) -> None:
        key = (vendor, product)
        if key not in best or score > best[key].score:
            best[key] = Suggestion(vendor, product, cpe_for(component, vendor, product), round(score, 3), why)

    for hint in hints(component):
        found = table.lookup(hint.vendor, hint.product) if hint.vendor else None
        if found is not None and (found in dictionary or table.knows(hint.vendor, hint.product)):
            vendor, product = found
            offer(vendor, product, 0.97 * hint.weight, f"alias table: {hint.origin} is {vendor}:{product}")
        _rank(hint, table, dictionary, offer)
    ranked = sorted(best.values(), key=lambda s: (-s.score, s.vendor, s.product))
    return ranked[:limit]


def _rank(hint: Hint, table: AliasTable, dictionary: ProductDictionary, offer: Offer) -> None:
    vendor = normalise(table.vendor(hint.vendor)) if hint.vendor else ""
    alias_vendor = normalise(hint.vendor) if hint.vendor else ""
    product = strip_vendor(normalise(hint.product), alias_vendor, vendor)
    if not product:
        return
    for i in dictionary.candidates(vendor, product):
        product_score = similarity(product, dictionary.normalised[i])
        if product_score < 0.3:
            continue
        candidate_vendor = normalise(dictionary.vendors[i])
        if vendor:
            vendor_score = similarity(vendor, candidate_vendor)
        else:  # no vendor given: projects named after their product (openssl:openssl) come first
            vendor_score = 0.6 if candidate_vendor in (product, dictionary.normalised[i]) else 0.3
        popularity = min(math.log10(1 + dictionary.weights[i]) / 100, 0.03)  # 1000 CVEs: +0.03
        score = 0.92 * hint.weight * (0.7 * product_score + 0.3 * vendor_score) + popularity
        name = f"{dictionary.vendors[i]}:{dictionary.products[i]}"
        why = f"{hint.origin} resembles {name} (product {product_score:.0%}"
        why += f", vendor {vendor_score:.0%})" if vendor else ", no vendor given)"
        offer(dictionary.vendors[i], dictionary.products[i], score, why)


def hints(component: ComponentRecord) -> list[Hint]:
    """The (vendor, product) names a component's fields suggest, most telling first."""
    found: list[Hint] = []
    if component.purl:
        found.extend(purl_hints(component.purl))
    if component.product:
        vendor, product = component.vendor.strip(), component.product.strip()
        origin = f'"{vendor} {product}"' if vendor else f'"{product}"'
        if not (component.purl and _from_purl(component)):
            found.append(Hint(vendor, product, 1.0, origin))
            first, _, rest = product.partition(" ")
            if not vendor and rest.strip():  # "Apache HTTP Server": the vendor is often the first word
                found.append(Hint(first, rest.strip(), 0.95, origin))
    return found


def _from_purl(component: ComponentRecord) -> bool:
    """Whether vendor/product are only what make_component derived from the purl (namespace, name)."""
    try:
        package = PackageURL.from_string(component.purl)
    except ValueError:
        return False
    return component.product == package.name and component.vendor in ("", package.namespace or "")


def purl_hints(purl: str) -> list[Hint]:
    """Hints from a package URL, by ecosystem custom."""
    try:
        package = PackageURL.from_string(purl)
    except ValueError:
        return []
    kind, namespace, name = package.type.lower(), (package.namespace or "").lower(), package.name.lower()
    shown = f"pkg:{kind}/{namespace + '/' if namespace else ''}{name}"
    found = [Hint(f"pkg:{kind}", name, 1.0, shown)]  # an alias of the ecosystem (aliases.csv: pkg:pypi …)
    if kind == "pypi":
        found[0] = Hint("pkg:pypi", name.replace("_", "-"), 1.0, shown)
        found.append(Hint("", name, 0.9, shown))
    elif kind in ("deb", "rpm", "apk", "alpm", "ebuild"):  # the namespace is the distribution, not the vendor
        base = _unversioned(name)
        if base != name:
            found.append(Hint(f"pkg:{kind}", base, 1.0, shown))
        found.append(Hint("", base, 0.9, shown))
    elif kind == "maven":
        found.extend(_maven_hints(namespace, name, shown))
    elif kind in ("golang", "github", "gitlab", "bitbucket", "composer", "npm", "gem", "nuget", "cargo"):
        owner = _owner(kind, namespace)
        found.append(Hint(owner, name, 1.0 if owner else 0.9, shown))
        if owner:
            found.append(Hint("", name, 0.8, shown))
    else:
        found.append(Hint(namespace, name, 0.9, shown))
    return found


def _unversioned(name: str) -> str:
    match = _VERSIONED_PACKAGE.match(name)
    return match.group("name").rstrip("-") if match else name


def _maven_hints(group: str, artifact: str, shown: str) -> list[Hint]:
    """org.apache.struts / struts2-core → (apache, struts); com.fasterxml.jackson.core / jackson-databind
    → (fasterxml, jackson-databind)."""
    labels = [label for label in group.split(".") if label]
    if labels and labels[0] in _DOMAIN_ROOTS:
        labels = labels[1:]
    vendor = labels[0] if labels else ""
    words = [w for w in re.split(r"[-_.]", artifact) if w and w not in _PACKAGING_WORDS]
    product = _TRAILING_DIGITS.sub("", words[0]) if words else artifact
    found = [Hint(vendor, artifact, 1.0, shown)]
    if "-".join(words) != artifact:
        found.append(Hint(vendor, "-".join(words), 1.0, shown))
    found.append(Hint(vendor, product, 0.95, shown))
    for label in labels[1:]:  # org.apache.struts: the project is named in the group
        if label not in _PACKAGING_WORDS:
            found.append(Hint(vendor, label, 0.95, shown))
    return found


def _owner(kind: str, namespace: str) -> str:
    """The owner a namespace names: @angular → angular, github.com/gin-gonic → gin-gonic."""
    parts = [p for p in namespace.lstrip("@").split("/") if p]
    if kind == "golang" and parts and parts[0] in _CODE_HOSTS:
        parts = parts[1:]
    elif kind == "golang" and parts:  # a vanity domain: golang.org/x, k8s.io
        parts = [parts[0].split(".")[0]]
    return parts[0] if parts else ""


def cpe_for(component: ComponentRecord, vendor: str, product: str) -> str:
    """The CPE 2.3 name of a suggestion: part from the component (else ``o`` for firmware, ``a``),
    version from the component (else ANY)."""
    part = component.part.strip().lower()[:1]
    if part not in ("a", "o", "h"):
        part = "o" if product.endswith("_firmware") else "a"
    version = quote(component.version) if component.version.strip() else ANY
    return CpeName(part=part, vendor=quote(vendor), product=quote(product), version=version).formatted()


@cache
def _builtin() -> AliasTable:
    return builtin_table()
