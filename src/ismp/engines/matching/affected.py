"""Match a source's ``affected[]`` statements (CVE JSON 5, OSV, the Debian tracker, JVN) against one
system's components, and say which components an authoritative distribution says are NOT affected.

Which component a statement concerns (:class:`AffectedProduct` → component), first that holds:

1. **Package.** The product's ``purl``, else its ``ecosystem`` + ``package_name`` (PyPI, npm, Maven, Go,
   crates.io, RubyGems, NuGet, Packagist, Hex, Pub, Debian, Ubuntu, Alpine, Red Hat …), against the
   component's purl: same type and name (namespace included: Maven ``group:artifact``, npm ``@scope/x``,
   Go module paths; PyPI names PEP 503-normalised). Distribution packages (deb, rpm, apk) compare the name
   or the purl's ``upstream`` qualifier (the source package), the distribution (``pkg:deb/debian`` for
   ``Debian:*``) and the release: ``Debian:11`` = ``distro=debian-11`` / ``debian-11.6`` / ``bullseye``;
   a deb purl without ``distro`` gives its release through ``+debNNu…`` in its version, or concerns no
   release-specific statement at all.
2. **CPE.** One of the product's ``cpes`` has the vendor:product of the component's CPE (the version in
   those CPEs is ignored: the ``versions`` say which versions are meant).
3. **Names.** vendor and product equal to the component's (from its CPE or its vendor/product columns),
   case-insensitive, spaces and underscores equal. ``n/a`` names nothing. ``canonical(vendor, product)``,
   when given, maps both sides to one spelling first (aliases).

What a concerned component's version gets (the version of the purl for a package link, else the CPE's,
else ``ComponentRecord.version``):

* **Ranges and versions** (CVE JSON 5, OSV, JVN with versions) follow CVE JSON 5's algorithm: the first
  ``versions[]`` entry that holds the version decides its status, ``defaultStatus`` the rest (OSV ranges
  are tried before its explicit ``versions[]`` so that the range is what is named). An entry holds a
  version when ``version`` ≤ v < ``lessThan`` (≤ ``lessThanOrEqual``), ``version`` "0" having no lower
  bound, ``*`` no upper bound and ``2.*`` taking in the whole 2.x series; a single entry holds its version
  (equal text, or equal in version order). ``versionType`` picks the scheme: semver, python → pypi, maven,
  rpm, npm, deb → dpkg; OSV's ``ecosystem``, ``custom`` or none → the ecosystem's scheme (``scheme_for``),
  else the component's purl type's, else generic; git-like types (git, original_commit_for_fix, …) and
  commit hashes cannot be compared.

  - an ``affected`` entry holds it → **high** (**medium** when the bound was read from free text such as
    ``< 2.3.32``, ``1.05 and earlier``, ``7.6.2より前のバージョン``, ``1.05およびそれ以前``);
  - no entry holds it and ``defaultStatus`` is ``affected`` → **medium** (the source says every other
    version is affected; which ones it meant is not listed);
  - an ``unaffected`` entry holds it, or nothing does and the default is not ``affected`` → no match;
  - entries that could not be compared (git, a version not in the scheme, text that is not a version) and
    nothing decided → **low**, the reason saying why;
  - the product has no versions: ``defaultStatus`` affected → **medium**; otherwise the match is by product
    name only (JVN often lists products without versions) → **low**, to be confirmed; the component has no
    version → **low**.
* **Debian fixed versions** (``fixed_version``, tracker statuses; one product per package and release):
  version < fixed (dpkg order) → **high**; version ≥ fixed → **cleared**: "fixed in 1.1.1n-0+deb11u4
  (Debian 11, DSA-5343-1)" — how backported fixes are respected, since the upstream version inside the
  Debian version (1.1.1n) may still lie in NVD's range; ``<not-affected>``/``<removed>`` (status
  unaffected) → **cleared**; open, ``<unfixed>``, ``<no-dsa>``, ``<end-of-life>`` … (affected, no fixed
  version) → **medium**, no fix yet; ``<undetermined>`` → **low**.
* A distribution package (deb, rpm, apk) outside every affected range of an OSV distribution record
  (``Debian:12`` …) is also **cleared**: the distribution's own versions say it is fixed.

Per component, a statement that could not be compared (low, "cannot compare" or "by product name only")
is dropped when another statement about the same component decided (affected or not): Linux kernel records
say the same thing as git commits and as versions. A component with any match is never cleared.
``cleared`` maps ``ComponentRecord.key`` to the reason; the caller uses it to suppress upstream (NVD)
range matches for that component.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from packageurl import PackageURL

from ismp.engines.cpe import ANY, NA, CpeSyntaxError, parse_cpe, plain
from ismp.engines.feeds.base import AffectedProduct, AffectedVersion
from ismp.engines.feeds.debian.parser import RELEASE_VERSIONS
from ismp.engines.inventory.records import ComponentRecord
from ismp.engines.matching.evaluate import CONFIDENCE_RANK, Confidence, Match, component_name
from ismp.engines.versions import compare, scheme_for

Canonical = Callable[[str, str], tuple[str, str]]


@dataclass(frozen=True, slots=True)
class AffectedResult:
    """The components affected (with evidence and confidence), and those an authoritative source clears."""

    matches: list[Match]
    cleared: dict[str, str]  # ComponentRecord.key → why it is not affected


def evaluate_affected(
    affected: Sequence[AffectedProduct],
    components: Sequence[ComponentRecord],
    *,
    source: str,
    advisory: str = "",
    canonical: Canonical | None = None,
) -> AffectedResult:
    """One record's ``affected`` statements against one system's components.

    ``source`` is the adapter's name ("cve5", "osv", "debian", "jvn"), ``advisory`` the record's id when the
    reasons should name it (``DSA-5343-1``, ``PYSEC-2024-56``); ``canonical`` maps (vendor, product) to one
    spelling before names are compared."""
    label = " ".join(part for part in (source, advisory) if part)
    products = [_Product.of(product, canonical) for product in affected]
    ranges_first = source.lower() == "osv"
    matches: dict[tuple[str, str], Match] = {}
    cleared: dict[str, str] = {}
    for component in components:
        target = _Target.of(component, canonical)
        verdicts = [
            _judge(product, link, label, advisory or source, ranges_first)
            for product in products
            if (link := product.link(target)) is not None
        ]
        decided = any(verdict.decisive for verdict in verdicts)
        found = [v.match for v in verdicts if v.match is not None and (v.decisive or not decided)]
        for match in found:
            key = (match.criterion, component.key)
            if key not in matches or CONFIDENCE_RANK[match.confidence] > CONFIDENCE_RANK[matches[key].confidence]:
                matches[key] = match
        reasons = [v.cleared for v in verdicts if v.cleared]
        if not found and reasons:
            cleared[component.key] = reasons[0]
    return AffectedResult(list(matches.values()), cleared)


# ------------------------------------------------------------------------------------------ identity

_PLACEHOLDERS = frozenset({"", "n/a", "na", "-", "*", "unknown", "unspecified"})
# OSV ecosystem (lower case, before ":") → purl type
_ECOSYSTEM_TYPES = {
    "pypi": "pypi",
    "npm": "npm",
    "maven": "maven",
    "go": "golang",
    "crates.io": "cargo",
    "rubygems": "gem",
    "nuget": "nuget",
    "packagist": "composer",
    "hex": "hex",
    "pub": "pub",
    "hackage": "hackage",
    "cran": "cran",
    "conancenter": "conan",
    "swifturl": "swift",
    "github actions": "github",
    "debian": "deb",
    "ubuntu": "deb",
    "alpine": "apk",
    "wolfi": "apk",
    "chainguard": "apk",
    "red hat": "rpm",
    "almalinux": "rpm",
    "rocky linux": "rpm",
    "suse": "rpm",
    "opensuse": "rpm",
    "mageia": "rpm",
    "openeuler": "rpm",
    "photon os": "rpm",
}
_TYPE_SCHEMES = {"pypi": "pypi", "npm": "npm", "maven": "maven", "deb": "dpkg", "rpm": "rpm", "apk": "alpine"}
_TYPE_SCHEMES |= {"golang": "semver", "cargo": "semver", "hex": "semver", "pub": "semver"}
_DISTRIBUTION_TYPES = frozenset({"deb", "rpm", "apk"})
_DEBIAN_HINT = re.compile(r"[+~]deb(\d+)u\d")


def _norm(name: str) -> str:
    return re.sub(r"[\s_]+", " ", name).strip().lower()


def _pair(vendor: str, product: str, canonical: Canonical | None) -> tuple[str, str] | None:
    if canonical is not None:
        vendor, product = canonical(vendor, product)
    pair = (_norm(vendor), _norm(product))
    return None if pair[0] in _PLACEHOLDERS or pair[1] in _PLACEHOLDERS else pair


def _release(text: str) -> tuple[str, ...]:
    """A distribution release as comparable parts: "Debian:11", "debian-11.6", "bullseye" → ("11",)…"""
    text = text.strip().lower()
    text = RELEASE_VERSIONS.get(text, text)
    numbers = re.search(r"\d+(?:\.\d+)*", text)
    return tuple(numbers.group().split(".")) if numbers else (text,)


def _same_release(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    shorter = min(len(a), len(b))
    return a[:shorter] == b[:shorter]


@dataclass(frozen=True, slots=True)
class _Package:
    type: str
    namespace: str  # distributions only: debian, ubuntu, alpine, redhat …
    names: frozenset[str]
    version: str = ""
    release: tuple[str, ...] = ()
    text: str = ""

    @property
    def scheme(self) -> str:
        return _TYPE_SCHEMES.get(self.type, "generic")

    @property
    def distribution(self) -> bool:
        return self.type in _DISTRIBUTION_TYPES


def _package_name(type_: str, namespace: str, name: str) -> str:
    if type_ == "pypi":
        return re.sub(r"[-_.]+", "-", name).lower()
    if type_ in _DISTRIBUTION_TYPES or not namespace:
        return name.lower()
    return f"{namespace}{':' if type_ == 'maven' else '/'}{name}".lower()


def _distribution(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())


def _parse_purl(text: str) -> PackageURL | None:
    try:
        return PackageURL.from_string(text.strip())
    except ValueError:
        return None


def _purl_package(text: str, *, release_from_version: bool) -> _Package | None:
    purl = _parse_purl(text)
    if purl is None:
        return None
    type_, namespace, name = str(purl.type).lower(), str(purl.namespace or ""), str(purl.name)
    qualifiers: dict[str, str] = {str(k): str(v) for k, v in (purl.qualifiers or {}).items()}
    version = str(purl.version or "")
    names = {_package_name(type_, namespace, name)}
    if type_ in _DISTRIBUTION_TYPES and qualifiers.get("upstream"):
        names.add(qualifiers["upstream"].split("@")[0].lower())
    release = _release(qualifiers["distro"]) if qualifiers.get("distro") else ()
    if not release and release_from_version and (hint := _DEBIAN_HINT.search(version)):
        release = (hint.group(1),)
    bare = PackageURL(type=purl.type, namespace=purl.namespace, name=purl.name).to_string()
    return _Package(
        type_,
        _distribution(namespace) if type_ in _DISTRIBUTION_TYPES else "",
        frozenset(names),
        version,
        release,
        str(bare),
    )


def _affected_package(product: AffectedProduct) -> _Package | None:
    base, _, release_text = product.ecosystem.partition(":")
    if product.purl and (package := _purl_package(product.purl, release_from_version=False)) is not None:
        if release_text and not package.release and package.distribution:
            package = _Package(package.type, package.namespace, package.names, "", _release(release_text), package.text)
        return package
    type_ = _ECOSYSTEM_TYPES.get(base.strip().lower())
    if type_ is None or not product.package_name:
        return None
    namespace = _distribution(base) if type_ in _DISTRIBUTION_TYPES else ""
    name = _package_name(type_, "", product.package_name)
    shown = f"{namespace}/{product.package_name}" if namespace else product.package_name
    return _Package(
        type_, namespace, frozenset({name}), "", _release(release_text) if release_text else (), f"pkg:{type_}/{shown}"
    )


@dataclass(frozen=True, slots=True)
class _Target:
    """One component as the statements see it: its names, its package, its versions."""

    component: ComponentRecord
    names: frozenset[tuple[str, str]]
    name_version: str
    package: _Package | None

    @classmethod
    def of(cls, component: ComponentRecord, canonical: Canonical | None) -> _Target:
        pairs: set[tuple[str, str]] = set()
        version = component.version.strip()
        name = component_name(component)
        if name is not None:
            if (pair := _pair(plain(name.vendor), plain(name.product), canonical)) is not None:
                pairs.add(pair)
            if name.version not in (ANY, NA):
                version = plain(name.version)
        if (pair := _pair(component.vendor, component.product, canonical)) is not None:
            pairs.add(pair)
        package = _purl_package(component.purl, release_from_version=True) if component.purl else None
        if not version and package is not None:
            version = package.version
        return cls(component, frozenset(pairs), version, package)

    @property
    def label(self) -> str:
        c = self.component
        return c.purl or c.cpe or " ".join(part for part in (c.vendor, c.product, c.version) if part)


@dataclass(frozen=True, slots=True)
class _Link:
    """How a statement concerns a component: the subject named in the criterion, the version compared."""

    target: _Target
    subject: str
    version: str
    scheme: str  # the scheme when the statement's versionType does not say
    distribution: bool = False
    release: str = ""  # "Debian 11", for reasons


@dataclass(frozen=True, slots=True)
class _Product:
    product: AffectedProduct
    package: _Package | None
    cpe_names: frozenset[tuple[str, str]]
    names: tuple[str, str] | None

    @classmethod
    def of(cls, product: AffectedProduct, canonical: Canonical | None) -> _Product:
        cpe_names: set[tuple[str, str]] = set()
        for text in product.cpes:
            try:
                name = parse_cpe(text)
            except CpeSyntaxError:
                continue
            if (pair := _pair(plain(name.vendor), plain(name.product), canonical)) is not None:
                cpe_names.add(pair)
        names = _pair(product.vendor, product.product, canonical)
        return cls(product, _affected_package(product), frozenset(cpe_names), names)

    def link(self, target: _Target) -> _Link | None:
        mine, theirs = self.package, target.package
        if mine is not None and theirs is not None and self._same_package(mine, theirs):
            version = theirs.version or target.component.version.strip()
            ecosystem = self.product.ecosystem
            release = ""
            if mine.distribution and ecosystem:
                base, _, rel = ecosystem.partition(":")
                release = f"{base} {rel}".strip()
            scheme = scheme_for(ecosystem) if ecosystem else mine.scheme
            return _Link(target, mine.text, version, scheme, mine.distribution, release)
        subject = "affected: " + " ".join(p for p in (self.product.vendor, self.product.product) if p)
        scheme = theirs.scheme if theirs is not None else "generic"
        if self.names is not None and self.names in target.names:
            return _Link(target, subject, target.name_version, scheme)
        if shared := self.cpe_names & target.names:
            if not self.product.product:
                subject = "affected: " + " ".join(sorted(shared)[0])
            return _Link(target, subject, target.name_version, scheme)
        return None

    @staticmethod
    def _same_package(mine: _Package, theirs: _Package) -> bool:
        if mine.type != theirs.type or not mine.names & theirs.names:
            return False
        if not mine.distribution:
            return True
        if (
            mine.namespace
            and theirs.namespace
            and not (mine.namespace.startswith(theirs.namespace) or theirs.namespace.startswith(mine.namespace))
        ):
            return False
        if not mine.release:
            return True
        return bool(theirs.release) and _same_release(mine.release, theirs.release)


# -------------------------------------------------------------------------------------------- verdicts


@dataclass(frozen=True, slots=True)
class _Verdict:
    match: Match | None = None
    cleared: str = ""
    decisive: bool = True  # False: nothing could be compared, or the product was matched by name only


_NOT_AFFECTED = _Verdict()


def _judge(product: _Product, link: _Link, label: str, advisory: str, ranges_first: bool) -> _Verdict:
    raw = product.product
    if raw.fixed_version or (link.distribution and not raw.versions):
        return _judge_fix(raw, link, label, advisory)
    return _judge_versions(raw, link, label, advisory, ranges_first)


def _verdict(
    link: _Link,
    statement: str,
    label: str,
    confidence: Confidence,
    reason: str,
    evidence: str,
    *,
    decisive: bool = True,
) -> _Verdict:
    """A match of ``statement`` (subject and range) with ``evidence`` about the version, e.g. "∋ 4.2.10"."""
    criterion = f"{link.subject} {statement} ({label})"
    shown = f"{link.subject} {statement} {evidence} (component {link.target.label})"
    return _Verdict(Match(criterion, link.target.component, confidence, reason, shown), decisive=decisive)


def _judge_fix(product: AffectedProduct, link: _Link, label: str, advisory: str) -> _Verdict:
    """A distribution's statement for one package and release: fixed in a version, open, or not affected."""
    release = link.release or "the distribution"
    where = f"{release}, {advisory}"
    label = f"{label}, {release}"
    version = link.version
    fixed = product.fixed_version
    if product.default_status == "unaffected":
        return _Verdict(cleared=f"not affected in {release} ({advisory}): version {version or '?'} needs no fix")
    if product.default_status == "unknown":
        reason = f"{release} has not determined whether the package is affected ({advisory}); confirm by hand"
        return _verdict(link, "undetermined", label, "low", reason, f"∋? {version or '?'}", decisive=False)
    if not fixed:
        reason = f"{release} has no fix yet ({advisory}): every version of the package there is affected"
        return _verdict(link, "unfixed", label, "medium", reason, f"∋ {version or '?'}")
    if not version:
        reason = f"the component has no version; {release} fixed it in {fixed}"
        return _verdict(link, f"<{fixed}", label, "low", reason, "∋ ?", decisive=False)
    order = compare(version, fixed, "dpkg")
    if order is None:
        reason = f"version {version} cannot be compared with the fixed version {fixed} (dpkg); confirm by hand"
        return _verdict(link, f"<{fixed}", label, "low", reason, f"∋? {version}", decisive=False)
    if order < 0:
        reason = f"version {version} is before the fix {fixed} ({where}) in dpkg order"
        return _verdict(link, f"<{fixed}", label, "high", reason, f"∋ {version}")
    return _Verdict(cleared=f"fixed in {fixed} ({where}); version {version} is at or after the fix in dpkg order")


def _judge_versions(product: AffectedProduct, link: _Link, label: str, advisory: str, ranges_first: bool) -> _Verdict:
    """CVE JSON 5's status algorithm: the first entry holding the version decides, defaultStatus the rest."""
    version = link.version
    default = product.default_status
    if not product.versions:
        if default == "affected":
            reason = "the source lists no versions and says every version is affected (defaultStatus affected)"
            return _verdict(link, "* (defaultStatus affected)", label, "medium", reason, f"∋ {version or '?'}")
        if default == "unaffected":
            return _NOT_AFFECTED
        reason = (
            f"matched by product name only: {label} names the product without versions; confirm that version "
            f"{version or '(unknown)'} is affected"
        )
        return _verdict(link, "(no versions)", label, "low", reason, f"~ {version or '?'} by name", decisive=False)
    entries = [_entry(v, product, link) for v in product.versions]
    if ranges_first:
        entries.sort(key=lambda e: not e.is_range)
    if not version:
        affected = next((e for e in entries if e.status == "affected"), entries[0])
        reason = "the component has no version; the affected versions cannot be checked"
        return _verdict(link, affected.text, label, "low", reason, "∋ ?", decisive=False)
    unsure: list[tuple[_Entry, str]] = []
    for entry in entries:
        holds, why = entry.holds(version)
        if holds is None:
            unsure.append((entry, why))
            continue
        if not holds:
            continue
        if entry.status == "unaffected":
            return _cleared_distribution(link, f"listed as unaffected ({entry.text}, {advisory})", version)
        if entry.status != "affected":
            reason = f"the source says the status of version {version} is {entry.status or 'unknown'}; confirm"
            return _verdict(link, entry.text, label, "low", reason, f"∋ {version}", decisive=False)
        if why:
            reason = f"version {version} lies within {entry.text}, but {why}; confirm"
            return _verdict(link, entry.text, label, "medium", reason, f"∋ {version}")
        if entry.free_text:
            reason = (
                f"version {version} lies within {entry.text}, read from the free text {entry.free_text!r} "
                f"({entry.scheme}); confirm"
            )
            return _verdict(link, entry.text, label, "medium", reason, f"∋ {version}")
        reason = f"version {version} lies within {entry.text} ({entry.scheme})"
        if entry.exact:
            reason = f"version {version} is listed as affected ({entry.scheme})"
        return _verdict(link, entry.text, label, "high", reason, f"∋ {version}")
    doubts = "; ".join(dict.fromkeys(why for _, why in unsure))
    if default == "affected":
        reason = f"no listed range holds version {version} and the source says other versions are affected"
        if doubts:
            reason += f" (not compared: {doubts})"
        return _verdict(link, "* (defaultStatus affected)", label, "medium", reason, f"∋ {version}")
    if any(entry.status == "affected" for entry, _ in unsure):
        entry = next(entry for entry, _ in unsure if entry.status == "affected")
        reason = f"version {version} could not be checked against the affected versions: {doubts}; confirm by hand"
        return _verdict(link, entry.text, label, "low", reason, f"∋? {version}", decisive=False)
    if unsure:
        return _Verdict(decisive=False)
    return _cleared_distribution(link, f"outside every affected range ({advisory})", version)


def _cleared_distribution(link: _Link, why: str, version: str) -> _Verdict:
    """Not affected; a distribution package is also cleared (its own versions say so)."""
    if not link.distribution:
        return _NOT_AFFECTED
    return _Verdict(cleared=f"{link.release or 'the distribution'}: version {version} is {why}")


# --------------------------------------------------------------------------------------- one entry

_COMMIT_TYPES = frozenset({"git", "hg", "svn", "bzr", "commit", "original_commit_for_fix", "sha256sum", "sha1"})
_VERSION_TYPES = {
    "semver": "semver",
    "python": "pypi",
    "pypi": "pypi",
    "pep440": "pypi",
    "maven": "maven",
    "rpm": "rpm",
    "npm": "npm",
    "deb": "dpkg",
    "dpkg": "dpkg",
    "debian": "dpkg",
    "alpine": "alpine",
}
_COMMIT = re.compile(r"^(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{12,64}$", re.IGNORECASE)
_PLAUSIBLE = re.compile(r"^[vV]?[0-9][0-9A-Za-z.\-+~:_()]*$")
_EVERY = frozenset({"*", "all", "all versions", "any", "every version"})
_NOTHING = frozenset({"", "n/a", "-", "unspecified", "unknown", "none"})
_V = r"v?(?P<v>[0-9][0-9A-Za-z.\-+~_]*)"
# free text → (pattern, inclusive upper bound); English anchored, Japanese (JVN) searched in longer text
_FREE_TEXT: tuple[tuple[re.Pattern[str], bool, bool], ...] = (
    (re.compile(rf"(?:<=|=<|≤|up to and including|through|until)\s*{_V}(?:\s+versions?)?", re.I), True, True),
    (re.compile(rf"(?:<|before|prior to|earlier than|lower than|below)\s*{_V}(?:\s+versions?)?", re.I), False, True),
    (re.compile(rf"{_V}\s*(?:and|or)\s+(?:earlier|prior|before|below|lower|older)(?:\s+versions?)?", re.I), True, True),
    (re.compile(rf"{_V}\s*(?:より前|未満)"), False, False),
    (re.compile(rf"{_V}\s*(?:およびそれ以前|及びそれ以前|以前|以下)"), True, False),
)


@dataclass(frozen=True, slots=True)
class _Entry:
    """One versions[] entry ready to test a version: a single version, or start ≤ v < end (≤ end)."""

    status: str
    scheme: str
    why_not: str = ""  # set when no version can be compared with this entry
    exact: str = ""
    every: bool = False
    start: str = ""
    end: str = ""
    inclusive: bool = False
    free_text: str = ""

    @property
    def is_range(self) -> bool:
        return not self.exact and not self.every

    @property
    def text(self) -> str:
        if self.every:
            return "*"
        if self.exact:
            return f"={self.exact}"
        parts = [f">={self.start}"] if self.start not in ("", "0", "*") else []
        if self.end and self.end != "*":
            parts.append(f"{'<=' if self.inclusive else '<'}{self.end}")
        return ",".join(parts) or "*"

    def holds(self, version: str) -> tuple[bool | None, str]:
        """Whether the entry holds ``version``; None and why when that cannot be told."""
        if self.every or (self.exact and self.exact.lower() == version.lower()):
            return True, ""
        if self.why_not:
            return None, self.why_not
        if self.exact:
            return self._compare(version, self.exact, lambda order: order == 0)
        flagged = ""
        if self.start not in ("", "0", "*"):
            holds, flagged = self._compare(version, self.start, lambda order: order >= 0)
            if not holds:
                return holds, flagged
        holds, why = self._upper(version)
        return holds, why or flagged

    def _upper(self, version: str) -> tuple[bool | None, str]:
        end = self.end
        if not end or end == "*":
            return True, ""
        if end.endswith("*"):
            prefix = end.rstrip("*").rstrip(".")
            if not prefix:
                return True, ""
            if version == prefix or (version.startswith(prefix) and version[len(prefix)] in ".-+~_"):
                return True, ""
            return self._compare(version, prefix, lambda order: order <= 0)
        return self._compare(version, end, lambda order: order <= 0 if self.inclusive else order < 0)

    def _compare(self, version: str, bound: str, accept: Callable[[int], bool]) -> tuple[bool | None, str]:
        if not _PLAUSIBLE.match(version):
            return None, f"{version!r} is not a version"
        order = compare(version, bound, self.scheme)
        if order is not None:
            return accept(order), ""
        # CNAs often label versions that are not in their scheme (semver "6.1.2.1"): the generic order, flagged
        fallback = compare(version, bound, "generic") if self.scheme != "generic" else None
        if fallback is None:
            return None, f"version {version} cannot be compared with {bound} ({self.scheme} scheme)"
        return accept(fallback), f"{version} or {bound} is not a {self.scheme} version; compared in generic order"


def _entry(version: AffectedVersion, product: AffectedProduct, link: _Link) -> _Entry:
    status = version.status or "affected"
    kind = version.version_type.strip().lower()
    scheme = _VERSION_TYPES.get(kind) or (scheme_for(product.ecosystem) if product.ecosystem else link.scheme)
    text = version.version.strip()
    end = version.less_than_or_equal.strip() or version.less_than.strip()
    inclusive = bool(version.less_than_or_equal.strip())
    if kind in _COMMIT_TYPES:
        why = f"versionType {version.version_type!r} names commits, which have no order without the repository"
        return _Entry(status, scheme, why, exact=text if not end else "", start=text, end=end, inclusive=inclusive)
    if any(_COMMIT.match(value) for value in (text, end) if value):
        why = f"{text if _COMMIT.match(text) else end!r} is a commit hash, which has no order without the repository"
        return _Entry(status, scheme, why, exact=text if not end else "", start=text, end=end, inclusive=inclusive)
    if end:
        start = "0" if text.lower() in _EVERY | _NOTHING else text
        return _Entry(status, scheme, start=start, end=end, inclusive=inclusive)
    if text.lower() in _EVERY:
        return _Entry(status, scheme, every=True)
    if text.lower() in _NOTHING:
        return _Entry(status, scheme, f"the source gives no version ({text or 'empty'})", exact=text or "?")
    if _PLAUSIBLE.match(text):
        return _Entry(status, scheme, exact=text)
    for pattern, inclusive, anchored in _FREE_TEXT:
        found = pattern.fullmatch(text) if anchored else pattern.search(text)
        if found is not None:
            bound = found.group("v").rstrip(".")
            return _Entry(status, scheme, start="0", end=bound, inclusive=inclusive, free_text=text)
    return _Entry(status, scheme, f"{text!r} is not a version", exact=text)
