"""Version schemes: known orderings per scheme, algebraic properties, ranges and real NVD bounds."""

from __future__ import annotations

import functools
import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ismp.engines.versions import SCHEMES, UnknownSchemeError, compare, in_range, scheme_for

# (lower, higher) pairs: compare(lower, higher) == -1 and the reverse == 1.
GENERIC_ORDERED = [
    ("2.4.3", "2.4.29"),
    ("1.0.1f", "1.0.1g"),
    ("1.0.1", "1.0.1a"),
    ("1.0.1a", "1.0.2"),
    ("0.9.8za", "0.9.8zb"),
    ("2.8.123", "2.8.123e"),
    ("2.8.123e", "2.8.124"),
    ("21.4", "21.4r3"),
    ("21.4r2", "21.4r3"),
    ("21.4r3", "21.4r3-s1"),
    ("21.4r3-s1", "21.4r3-s2"),
    ("21.4r3", "22.1r1"),
    ("15.2(4)e", "15.2(5)e"),
    ("15.2\\(5\\)e", "15.2\\(5\\)e1"),
    ("15.2(5)e1", "15.2(5)e2"),
    ("4.3", "4.3.30"),
    ("4.3.9", "4.3.30"),
    ("1.0alpha", "1.0alpha2"),
    ("1.0alpha2", "1.0beta"),
    ("1.0-beta1", "1.0-rc1"),
    ("1.0b2", "1.0rc1"),
    ("1.0a1", "1.0b1"),
    ("1.0rc1", "1.0"),
    ("1.0.dev1", "1.0a1"),
    ("1.0-rc2", "1.0"),
    ("2.6.32-rc7", "2.6.32"),
    ("1.0", "1.0p1"),
    ("5.5p1", "5.5p2"),
    ("5.5p2", "5.5p10"),
    ("7", "7u45"),
    ("7u45", "7u51"),
    ("1.6.0_update_3", "1.6.0_update_10"),
    ("8.0", "8.0sp1"),
    ("v1.2", "1.10"),
    ("1.9", "1.10"),
    ("10.0.1", "10.1"),
    ("2014.1", "2014.10"),
]
GENERIC_EQUAL = [
    ("4.3", "4.3.0"),
    ("1.0", "1.0.0.0"),
    ("V1.2.3", "1.2.3"),
    ("1.0RC1", "1.0rc1"),
    ("15.2\\(5\\)e", "15.2(5)e"),
    ("1.0-rc1", "1.0rc1"),
    (" 2.4 ", "2.4"),
]
GENERIC_INCOMPARABLE = [("-", "1.0"), ("1.0", "-"), ("*", "1.0"), ("1.0", "*"), ("", "1.0"), ("...", "1.0"), ("-", "-")]

DPKG_ORDERED = [  # Debian Policy §5.6.12 and dpkg's own test vectors (lib/dpkg/t/t-version.c)
    ("~~", "~~a"),
    ("~~a", "~"),
    ("~", "0"),
    ("1.0~rc1", "1.0"),
    ("1.0~rc1", "1.0~rc2"),
    ("1.0~~", "1.0~"),
    ("1.0", "1.0a"),
    ("1.0a", "1.0+"),
    ("1.0", "1.0+dfsg"),
    ("0.9.8-1", "0.9.8a-1"),
    ("1.2-5", "1.2-10"),
    ("2.3-1", "2.30-1"),
    ("10.3", "1:0.4"),
    ("1:2.3-4", "2:0.1-1"),
    ("1.0-1", "1.0-1+deb12u1"),
    ("1.0-1~bpo12+1", "1.0-1"),
    ("1.0-1", "1.0-1+b1"),
    ("2.36-9+deb12u3", "2.36-9+deb12u4"),
    ("1.1.1n-0+deb11u4", "1.1.1n-0+deb11u5"),
    ("1.1.1n-0+deb11u5", "1.1.1w-0+deb11u1"),
    ("7.88.1-10+deb12u5", "7.88.1-10+deb12u12"),
]
DPKG_EQUAL = [("1.0", "1.0-0"), ("0:1.0", "1.0"), ("1.0-1", "0:1.0-1"), ("1.00", "1.0"), ("1:2.3-4", "1:2.3-4")]
DPKG_INCOMPARABLE = [("a:1.0", "1.0"), (":1.0", "1.0"), ("1:", "1.0"), ("-1", "1.0")]

RPM_ORDERED = [  # rpm's tests/rpmvercmp.at
    ("1.0", "2.0"),
    ("2.0", "2.0.1"),
    ("2.0.1", "2.0.1a"),
    ("5.5p1", "5.5p2"),
    ("5.5p1", "5.5p10"),
    ("10xyz", "10.1xyz"),
    ("xyz10", "xyz10.1"),
    ("2a", "2.0"),
    ("1.0a", "1.0.1"),
    ("1.0a", "1.0aa"),
    ("10a2", "10b2"),
    ("FC5", "fc4"),
    ("6.0", "6.0.rc1"),
    ("1b.fc17", "1.fc17"),
    ("1.0~rc1", "1.0"),
    ("1.0~rc1", "1.0~rc2"),
    ("1.0~rc1~git123", "1.0~rc1"),
    ("1.0", "1.0^"),
    ("1.0", "1.0^git1"),
    ("1.0^git1", "1.0^git2"),
    ("1.0^git1", "1.01"),
    ("1.0~rc1", "1.0~rc1^git1"),
    ("1.0~rc1^git1", "1.0"),
    ("1:1.0-1", "2:0.1-1"),
    ("0.9-1", "1:0.1-1"),
    ("1.0-1.el8", "1.0-2.el8"),
    ("1.0-9.el8", "1.0-10.el8"),
    ("3.0.7-24.el9", "3.0.7-25.el9_3"),
]
RPM_EQUAL = [
    ("1.0", "1.0"),
    ("1.05", "1.5"),
    ("fc4", "fc.4"),
    ("1.0^20160101", "1.0^20160101"),
    ("0:1.0-1", "1.0-1"),
    ("1.0", "1.0-5.el9"),  # a version without release matches any release
]
RPM_INCOMPARABLE = [("x:1.0", "1.0"), ("1:", "1.0")]

SEMVER_ORDERED = [  # semver.org §11
    ("1.0.0-alpha", "1.0.0-alpha.1"),
    ("1.0.0-alpha.1", "1.0.0-alpha.beta"),
    ("1.0.0-alpha.beta", "1.0.0-beta"),
    ("1.0.0-beta", "1.0.0-beta.2"),
    ("1.0.0-beta.2", "1.0.0-beta.11"),
    ("1.0.0-beta.11", "1.0.0-rc.1"),
    ("1.0.0-rc.1", "1.0.0"),
    ("1.9.0", "1.10.0"),
    ("1.10.0", "1.11.0"),
    ("v1.2.3", "v1.2.4"),
    ("v0.0.0-20210101000000-abcdef123456", "v0.0.1"),
    ("2.0.0", "2.1.0"),
    ("2.1.0", "2.1.1"),
]
SEMVER_EQUAL = [("1.0.0+build.1", "1.0.0+build.2"), ("1.2", "1.2.0"), ("v1.2.3", "1.2.3")]
SEMVER_INCOMPARABLE = [("1.2.3.4", "1.2.3"), ("latest", "1.0.0"), ("1.x", "1.0.0"), ("-", "1.0.0")]

PYPI_ORDERED = [  # PEP 440 summary of permitted suffixes and relative ordering
    ("1.0.dev456", "1.0a1"),
    ("1.0a1", "1.0a2.dev456"),
    ("1.0a2.dev456", "1.0a12"),
    ("1.0a12", "1.0b1.dev456"),
    ("1.0b2", "1.0b2.post345"),
    ("1.0b2.post345", "1.0rc1"),
    ("1.0rc1", "1.0"),
    ("1.0", "1.0+abc.5"),
    ("1.0+abc.5", "1.0.post456.dev34"),
    ("1.0.post456.dev34", "1.0.post456"),
    ("1.0.post456", "1.1.dev1"),
    ("2.0", "1!0.1"),
]
PYPI_EQUAL = [("1.0", "1.0.0"), ("1.0c1", "1.0rc1"), ("v1.0", "1.0")]
PYPI_INCOMPARABLE = [("not a version", "1.0"), ("1.0", "-")]

MAVEN_ORDERED = [
    ("1.0-alpha-1", "1.0-beta-1"),
    ("1.0-beta-1", "1.0-milestone-1"),
    ("1.0-m2", "1.0-rc1"),
    ("1.0-rc1", "1.0-SNAPSHOT"),
    ("1.0-SNAPSHOT", "1.0"),
    ("1.0", "1.0-sp1"),
    ("1.0-sp1", "1.1"),
    ("2.9.10", "2.9.10.1"),
    ("2.9.10.8", "2.10.0"),
]
MAVEN_EQUAL = [("1.0", "1.0.0"), ("1.0", "1.0-ga"), ("1.0.Final", "1.0"), ("1.0-RC1", "1.0-cr1")]

ALPINE_ORDERED = [("1.2.3_rc1", "1.2.3"), ("1.2.3", "1.2.3-r1"), ("1.2.3-r1", "1.2.3-r10"), ("1.2.3-r10", "1.2.4-r0")]

ORDERED = [
    *[(a, b, "generic") for a, b in GENERIC_ORDERED],
    *[(a, b, "dpkg") for a, b in DPKG_ORDERED],
    *[(a, b, "rpm") for a, b in RPM_ORDERED],
    *[(a, b, "semver") for a, b in SEMVER_ORDERED],
    *[(a, b, "npm") for a, b in SEMVER_ORDERED],
    *[(a, b, "pypi") for a, b in PYPI_ORDERED],
    *[(a, b, "maven") for a, b in MAVEN_ORDERED],
    *[(a, b, "alpine") for a, b in ALPINE_ORDERED],
]
EQUAL = [
    *[(a, b, "generic") for a, b in GENERIC_EQUAL],
    *[(a, b, "dpkg") for a, b in DPKG_EQUAL],
    *[(a, b, "rpm") for a, b in RPM_EQUAL],
    *[(a, b, "semver") for a, b in SEMVER_EQUAL],
    *[(a, b, "pypi") for a, b in PYPI_EQUAL],
    *[(a, b, "maven") for a, b in MAVEN_EQUAL],
]
INCOMPARABLE = [
    *[(a, b, "generic") for a, b in GENERIC_INCOMPARABLE],
    *[(a, b, "dpkg") for a, b in DPKG_INCOMPARABLE],
    *[(a, b, "rpm") for a, b in RPM_INCOMPARABLE],
    *[(a, b, "semver") for a, b in SEMVER_INCOMPARABLE],
    *[(a, b, "pypi") for a, b in PYPI_INCOMPARABLE],
]


@pytest.mark.parametrize(("lower", "higher", "scheme"), ORDERED)
def test_known_ordering(lower: str, higher: str, scheme: str) -> None:
    assert compare(lower, higher, scheme) == -1
    assert compare(higher, lower, scheme) == 1


@pytest.mark.parametrize(("a", "b", "scheme"), EQUAL)
def test_known_equal(a: str, b: str, scheme: str) -> None:
    assert compare(a, b, scheme) == 0
    assert compare(b, a, scheme) == 0


@pytest.mark.parametrize(("a", "b", "scheme"), INCOMPARABLE)
def test_incomparable(a: str, b: str, scheme: str) -> None:
    assert compare(a, b, scheme) is None


@pytest.mark.parametrize(
    ("scheme", "chain"),
    [
        ("dpkg", ["~~", "~~a", "~", "", "a"]),  # the Debian Policy example, on one upstream position
        ("rpm", ["1.0~rc1", "1.0~rc1^git1", "1.0", "1.0^git1", "1.0.1"]),
    ],
)
def test_documented_chains(scheme: str, chain: list[str]) -> None:
    prefixed = [f"1.0{suffix}" for suffix in chain] if scheme == "dpkg" else chain
    for lower, higher in zip(prefixed, prefixed[1:], strict=False):
        assert compare(lower, higher, scheme) == -1, (lower, higher)


def test_unknown_scheme_is_named() -> None:
    with pytest.raises(UnknownSchemeError, match="'cobol'.*known schemes: .*dpkg"):
        compare("1", "2", "cobol")


# --- properties ---------------------------------------------------------------------------------

_numbers = st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=5)
_suffix = st.sampled_from(["", "a", "f", "z", "rc1", "-beta", "beta2", "alpha", "p1", "r3", "-s2", "u45", "sp1"])
dotted = st.builds(lambda nums, suffix: ".".join(map(str, nums)) + suffix, _numbers, _suffix)
debian_like = st.text(alphabet="0123456789.~+a", min_size=1, max_size=8).filter(lambda s: s[0].isdigit())
rpm_like = st.text(alphabet="0123456789.~^_aB", min_size=1, max_size=8)
semver_like = st.builds(
    lambda nums, pre: ".".join(map(str, (nums + [0, 0])[:3])) + pre,
    _numbers,
    st.sampled_from(["", "-alpha", "-alpha.1", "-beta.2", "-rc.1", "-1", "-x.7.z"]),
)
pypi_like = st.builds(
    lambda nums, suffix: ".".join(map(str, nums)) + suffix,
    _numbers,
    st.sampled_from(["", "a1", "b2", "rc1", ".post1", ".dev3", "a1.dev1"]),
)
STRATEGIES = {
    "generic": dotted,
    "maven": dotted,
    "dpkg": debian_like,
    "rpm": rpm_like,
    "semver": semver_like,
    "pypi": pypi_like,
}


@pytest.mark.parametrize("scheme", sorted(STRATEGIES))
def test_reflexive_antisymmetric_transitive(scheme: str) -> None:
    strategy = STRATEGIES[scheme]

    @given(st.lists(strategy, min_size=3, max_size=6))
    def check(versions: list[str]) -> None:
        for a in versions:
            assert compare(a, a, scheme) == 0
            for b in versions:
                assert compare(a, b, scheme) == -(compare(b, a, scheme) or 0)

        def by_scheme(x: str, y: str) -> int:
            return compare(x, y, scheme) or 0

        ordered = sorted(versions, key=functools.cmp_to_key(by_scheme))
        for i, lower in enumerate(ordered):
            for higher in ordered[i + 1 :]:
                assert (compare(lower, higher, scheme) or 0) <= 0, (lower, higher, ordered)

    check()


@given(_numbers, _numbers)
def test_generic_dotted_numbers_order_like_padded_integer_lists(a: list[int], b: list[int]) -> None:
    width = max(len(a), len(b))
    pa, pb = a + [0] * (width - len(a)), b + [0] * (width - len(b))
    expected = (pa > pb) - (pa < pb)
    assert compare(".".join(map(str, a)), ".".join(map(str, b))) == expected


@given(st.lists(st.integers(min_value=0, max_value=99), min_size=1, max_size=4))
def test_generic_pre_release_sorts_before_release_and_suffix_after(nums: list[int]) -> None:
    release = ".".join(map(str, nums))
    assert compare(release + "rc1", release) == -1
    assert compare(release + "-beta", release + "rc1") == -1
    assert compare(release, release + "a") == -1
    assert compare(release, release + "p1") == -1


# --- ranges -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "bounds", "expected"),
    [
        ("2.4.29", {}, True),
        ("2.4.29", {"start_including": "2.4.0"}, True),
        ("2.4.0", {"start_including": "2.4.0"}, True),
        ("2.4.0", {"start_excluding": "2.4.0"}, False),
        ("2.4.1", {"start_excluding": "2.4.0"}, True),
        ("2.3.9", {"start_including": "2.4.0"}, False),
        ("2.4.29", {"end_including": "2.4.29"}, True),
        ("2.4.29", {"end_excluding": "2.4.29"}, False),
        ("2.4.28", {"end_excluding": "2.4.29"}, True),
        ("2.4.30", {"end_including": "2.4.29"}, False),
        ("2.4.3", {"start_including": "2.4.0", "end_excluding": "2.4.29"}, True),
        ("2.4.29", {"start_including": "2.4.0", "end_excluding": "2.4.29"}, False),
        ("2.4.29", {"start_excluding": "2.4.0", "end_including": "2.4.29"}, True),
        ("2.4.0", {"start_excluding": "2.4.0", "end_including": "2.4.29"}, False),
        ("1.0.1f", {"start_including": "1.0.1", "end_excluding": "1.0.1g"}, True),
        ("1.0.1g", {"start_including": "1.0.1", "end_excluding": "1.0.1g"}, False),
        ("1.0.1", {"start_including": "1.0.1", "end_excluding": "1.0.1g"}, True),
        ("1.0.0", {"start_including": "1.0.1", "end_excluding": "1.0.1g"}, False),
        ("21.4r2", {"end_excluding": "21.4r3"}, True),
        ("21.4r3-s1", {"end_excluding": "21.4r3"}, False),
        ("1.0rc1", {"end_excluding": "1.0"}, True),
        ("4.3", {"start_including": "4.3.0", "end_including": "4.3.30"}, True),
        ("-", {"end_including": "1.0"}, None),
        ("*", {"start_including": "1.0"}, None),
        ("1.0", {"start_including": "-"}, None),
        ("0.5", {"start_including": "1.0", "end_including": "-"}, None),  # None even though start excludes it
    ],
)
def test_in_range_generic(version: str, bounds: dict[str, str], expected: bool | None) -> None:
    assert in_range(version, **bounds) is expected


@pytest.mark.parametrize(
    ("version", "scheme", "bounds", "expected"),
    [
        ("1.1.1n-0+deb11u4", "dpkg", {"end_excluding": "1.1.1n-0+deb11u5"}, True),
        ("1.1.1n-0+deb11u5", "dpkg", {"end_excluding": "1.1.1n-0+deb11u5"}, False),
        ("1:1.0", "dpkg", {"end_excluding": "2.0"}, False),
        ("1.0~rc1", "dpkg", {"start_including": "1.0"}, False),
        ("3.0.7-24.el9", "rpm", {"end_excluding": "3.0.7-25.el9_3"}, True),
        ("1.0.0-rc.1", "semver", {"start_including": "0.9.0", "end_excluding": "1.0.0"}, True),
        ("2.0.0", "npm", {"start_including": "1.0.0", "end_excluding": "2.0.0"}, False),
        ("1.0rc1", "pypi", {"start_including": "1.0"}, False),
        ("1.0.post1", "pypi", {"start_excluding": "1.0", "end_including": "1.0.post1"}, True),
        ("2.9.10.8", "maven", {"start_including": "2.9.0", "end_excluding": "2.10.0"}, True),
        ("1.x", "semver", {"end_excluding": "2.0.0"}, None),
    ],
)
def test_in_range_other_schemes(version: str, scheme: str, bounds: dict[str, str], expected: bool | None) -> None:
    assert in_range(version, scheme=scheme, **bounds) is expected


# --- ecosystems ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ecosystem", "scheme"),
    [
        ("cpe", "generic"),
        ("PyPI", "pypi"),
        ("npm", "npm"),
        ("Go", "semver"),
        ("crates.io", "semver"),
        ("Maven", "maven"),
        ("Debian", "dpkg"),
        ("Debian:12", "dpkg"),
        ("Ubuntu:22.04:LTS", "dpkg"),
        ("Ubuntu:Pro:18.04:LTS", "dpkg"),
        ("Alpine:v3.18", "alpine"),
        ("Red Hat", "rpm"),
        ("Red Hat:enterprise_linux:9::appstream", "rpm"),
        ("AlmaLinux:8", "rpm"),
        ("Rocky Linux:9", "rpm"),
        ("SomethingNew", "generic"),
    ],
)
def test_scheme_for(ecosystem: str, scheme: str) -> None:
    assert scheme_for(ecosystem) == scheme
    assert scheme_for(ecosystem) in SCHEMES


# --- real NVD data ------------------------------------------------------------------------------


def _cpe_matches(nodes: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for node in nodes:
        yield from node.get("cpe_match", [])
        yield from _cpe_matches(node.get("children", []))


def test_nvd_2014_range_bounds_are_ordered(shared_data: Path) -> None:
    feed = shared_data / "vuln" / "nvd" / "feeds-1.1" / "nvdcve-1.1-2014.json.gz"
    if not feed.is_file():
        pytest.skip(f"{feed} is absent")
    with gzip.open(feed, "rt", encoding="utf-8") as stream:
        items = json.load(stream)["CVE_Items"]
    checked = 0
    exceptions: list[str] = []
    for item in items:
        cve_id = item["cve"]["CVE_data_meta"]["ID"]
        for match in _cpe_matches(item.get("configurations", {}).get("nodes", [])):
            start = match.get("versionStartIncluding") or match.get("versionStartExcluding")
            end = match.get("versionEndIncluding") or match.get("versionEndExcluding")
            if not (start and end):
                continue
            checked += 1
            result = compare(start, end)
            if result is None or result > 0:
                exceptions.append(f"{cve_id} {match['cpe23Uri']}: {start!r} vs {end!r} -> {result}")
    print(f"\nNVD 2014: {checked} bounded ranges, {len(exceptions)} with start not <= end")
    for line in exceptions:
        print("  ", line)
    assert checked > 100
    assert len(exceptions) <= checked * 0.01, exceptions[:20]
