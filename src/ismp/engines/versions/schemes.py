"""Version schemes by name, the comparison and range API, and ecosystem → scheme mapping."""

from __future__ import annotations

from collections.abc import Callable

from ismp.engines.versions.debian import compare_debian
from ismp.engines.versions.generic import compare_alpine, compare_generic
from ismp.engines.versions.maven import compare_maven
from ismp.engines.versions.pypi import compare_pypi
from ismp.engines.versions.rpm import compare_rpm
from ismp.engines.versions.semver import compare_semver

Comparator = Callable[[str, str], int | None]

SCHEMES: dict[str, Comparator] = {}


class UnknownSchemeError(ValueError):
    def __init__(self, scheme: str) -> None:
        super().__init__(f"unknown version scheme {scheme!r}; known schemes: {', '.join(sorted(SCHEMES))}")
        self.scheme = scheme


def register(name: str, comparator: Comparator) -> None:
    """Make ``comparator`` available as ``scheme=name``; it returns -1/0/1, or None if incomparable."""
    SCHEMES[name] = comparator


register("generic", compare_generic)
register("semver", compare_semver)
register("npm", compare_semver)
register("dpkg", compare_debian)
register("rpm", compare_rpm)
register("pypi", compare_pypi)
register("maven", compare_maven)
register("alpine", compare_alpine)


def compare(a: str, b: str, scheme: str = "generic") -> int | None:
    """-1, 0 or 1 as ``a`` sorts before, with or after ``b`` in ``scheme``; None if they cannot be compared."""
    try:
        comparator = SCHEMES[scheme]
    except KeyError:
        raise UnknownSchemeError(scheme) from None
    return comparator(a, b)


def in_range(
    version: str,
    *,
    start_including: str = "",
    start_excluding: str = "",
    end_including: str = "",
    end_excluding: str = "",
    scheme: str = "generic",
) -> bool | None:
    """Whether ``version`` lies within the bounds; empty bounds are open.

    None when a comparison with a given bound is impossible (e.g. ``-`` or an invalid version).
    With every bound open no comparison is needed and the answer is True.
    """
    # Each bound with the comparison results (version vs bound) that keep the version inside.
    checks = (
        (start_including, (0, 1)),
        (start_excluding, (1,)),
        (end_including, (-1, 0)),
        (end_excluding, (-1,)),
    )
    inside = True
    for bound, accepted in checks:
        if not bound:
            continue
        result = compare(version, bound, scheme)
        if result is None:
            return None
        inside = inside and result in accepted
    return inside


# OSV ecosystem names (the part before ":" for Debian:12, Ubuntu:22.04:LTS, Alpine:v3.18 …), lower-cased.
_ECOSYSTEM_SCHEMES = {
    "cpe": "generic",
    "nvd": "generic",
    "a": "generic",
    "o": "generic",
    "h": "generic",
    "pypi": "pypi",
    "npm": "npm",
    "go": "semver",
    "crates.io": "semver",
    "hex": "semver",
    "pub": "semver",
    "maven": "maven",
    "debian": "dpkg",
    "ubuntu": "dpkg",
    "alpine": "alpine",
    "red hat": "rpm",
    "redhat": "rpm",
    "almalinux": "rpm",
    "rocky linux": "rpm",
    "rocky": "rpm",
    "opensuse": "rpm",
    "suse": "rpm",
    "mageia": "rpm",
    "openeuler": "rpm",
}


def scheme_for(ecosystem_or_part: str) -> str:
    """The scheme for an OSV ecosystem (``"PyPI"``, ``"Debian:12"``, ``"Red Hat"``) or ``"cpe"``.

    Unknown ecosystems get ``"generic"``, the most forgiving scheme.
    """
    key = ecosystem_or_part.strip().split(":", 1)[0].strip().lower()
    return _ECOSYSTEM_SCHEMES.get(key, "generic")
