"""CPE suggestions for components without a CPE, against the (vendor, product) pairs of a real NVD feed."""

from __future__ import annotations

import gzip
import json
import time
from collections import Counter
from pathlib import Path

import pytest

from ismp.engines.cpe import parse_cpe, plain
from ismp.engines.inventory.records import ComponentRecord
from ismp.engines.matching.aliases import Alias, AliasTable
from ismp.engines.matching.suggest import ProductDictionary, hints, suggest_cpes


@pytest.fixture(scope="module")
def nvd(shared_data: Path) -> ProductDictionary:
    """Every vulnerable (vendor, product) of NVD's 2016 and 2017 feeds, weighted by how many CVEs name it."""
    weights: Counter[tuple[str, str]] = Counter()

    def walk(nodes: list[dict[str, object]], seen: set[tuple[str, str]]) -> None:
        for node in nodes:
            for match in node.get("cpe_match", []):  # type: ignore[union-attr]
                if match["vulnerable"]:
                    name = parse_cpe(match["cpe23Uri"])
                    seen.add((plain(name.vendor), plain(name.product)))
            walk(node.get("children", []), seen)  # type: ignore[arg-type]

    for year in (2016, 2017):
        path = shared_data / "vuln" / "nvd" / "feeds-1.1" / f"nvdcve-1.1-{year}.json.gz"
        with gzip.open(path, "rt", encoding="utf-8") as stream:
            for item in json.load(stream)["CVE_Items"]:
                seen: set[tuple[str, str]] = set()
                walk(item["configurations"]["nodes"], seen)
                weights.update(seen)
    return ProductDictionary((v, p, n) for (v, p), n in weights.items())


def top(component: ComponentRecord, dictionary: ProductDictionary) -> str:
    found = suggest_cpes(component, dictionary)
    assert found, f"no suggestion for {component}"
    return f"{found[0].vendor}:{found[0].product}"


@pytest.mark.parametrize(
    ("component", "expected"),
    [
        (ComponentRecord(0, purl="pkg:maven/org.apache.struts/struts2-core@2.5.10"), "apache:struts"),
        (ComponentRecord(0, purl="pkg:maven/org.apache.logging.log4j/log4j-core@2.8.1"), "apache:log4j"),
        (
            ComponentRecord(0, purl="pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.8.8"),
            "fasterxml:jackson-databind",
        ),
        (ComponentRecord(0, purl="pkg:pypi/django@1.11"), "djangoproject:django"),  # alias table (OSV)
        (ComponentRecord(0, purl="pkg:pypi/Pillow@4.0"), "python:pillow"),
        (ComponentRecord(0, purl="pkg:deb/debian/openssl@1.1.0f-3"), "openssl:openssl"),
        (ComponentRecord(0, purl="pkg:deb/debian/httpcomponents-client@4.5"), "apache:httpclient"),  # Debian CPE/list
        (ComponentRecord(0, purl="pkg:npm/jquery@2.2.4"), "jquery:jquery"),
        (
            ComponentRecord(0, vendor="Apache Software Foundation", product="Apache Struts", version="2.3.31"),
            "apache:struts",
        ),
        (
            ComponentRecord(0, vendor="Microsoft Corporation", product="Internet Explorer", version="11"),
            "microsoft:internet_explorer",
        ),
        (ComponentRecord(0, product="Apache HTTP Server", version="2.4.25"), "apache:http_server"),
        (ComponentRecord(0, vendor="Linux", product="Kernel", part="o"), "linux:linux_kernel"),  # KEV names
        (ComponentRecord(0, vendor="Oracle", product="MySQL Server", version="5.7.18"), "oracle:mysql"),  # CNA names
        (ComponentRecord(0, product="ｎｇｉｎｘ"), "f5:nginx"),  # full-width; NVD now files nginx under f5
    ],
    ids=lambda value: value if isinstance(value, str) else (value.purl or f"{value.vendor} {value.product}"),
)
def test_top_suggestion(component: ComponentRecord, expected: str, nvd: ProductDictionary) -> None:
    assert top(component, nvd) == expected


def test_a_suggestion_carries_the_components_version_part_and_reason(nvd: ProductDictionary) -> None:
    best = suggest_cpes(ComponentRecord(0, vendor="Linux", product="Kernel", version="4.9", part="o"), nvd)[0]
    assert best.cpe == "cpe:2.3:o:linux:linux_kernel:4.9:*:*:*:*:*:*:*"
    assert best.score > 0.9 and "alias table" in best.why
    struts = suggest_cpes(ComponentRecord(0, purl="pkg:maven/org.apache.struts/struts2-core@2.5.10"), nvd)[0]
    assert struts.cpe == "cpe:2.3:a:apache:struts:*:*:*:*:*:*:*:*"
    assert "resembles apache:struts" in struts.why


def test_scores_are_ordered_and_limited(nvd: ProductDictionary) -> None:
    found = suggest_cpes(ComponentRecord(0, product="Apache HTTP Server"), nvd, limit=3)
    assert len(found) == 3
    assert [s.score for s in found] == sorted((s.score for s in found), reverse=True)
    assert all(0 < s.score <= 1 for s in found)


def test_a_component_with_a_cpe_or_nothing_gets_no_suggestion(nvd: ProductDictionary) -> None:
    assert suggest_cpes(ComponentRecord(0, cpe="cpe:2.3:a:apache:struts:2.5:*:*:*:*:*:*:*"), nvd) == []
    assert suggest_cpes(ComponentRecord(0, purl="pkg:generic/zzzqqqxxx"), nvd) == []
    assert suggest_cpes(ComponentRecord(0, product="%%%"), nvd) == []


def test_a_csirt_alias_is_used(nvd: ProductDictionary) -> None:
    table = AliasTable([Alias("サイボウズ株式会社", "ガルーン", "cybozu", "garoon", source="csirt")])
    found = suggest_cpes(
        ComponentRecord(0, vendor="サイボウズ株式会社", product="ガルーン", version="4.2"), nvd, aliases=table
    )
    assert found[0].cpe == "cpe:2.3:a:cybozu:garoon:4.2:*:*:*:*:*:*:*"


def test_purl_hints_follow_ecosystem_customs() -> None:
    maven = {
        (h.vendor, h.product) for h in hints(ComponentRecord(0, purl="pkg:maven/org.apache.struts/struts2-core@2"))
    }
    assert ("apache", "struts") in maven
    go = {(h.vendor, h.product) for h in hints(ComponentRecord(0, purl="pkg:golang/github.com/gin-gonic/gin@1.6.0"))}
    assert ("gin-gonic", "gin") in go
    deb = {(h.vendor, h.product) for h in hints(ComponentRecord(0, purl="pkg:deb/debian/gcc-3.3@3.3.6"))}
    assert ("", "gcc") in deb and ("pkg:deb", "gcc-3.3") in deb


def test_fast_on_a_large_dictionary(nvd: ProductDictionary) -> None:
    assert len(nvd) > 10000
    components = [
        ComponentRecord(0, purl="pkg:maven/org.apache.struts/struts2-core@2.5.10"),
        ComponentRecord(0, product="Apache HTTP Server"),
        ComponentRecord(0, vendor="Microsoft", product="Windows Server 2016"),
        ComponentRecord(0, purl="pkg:deb/debian/openssl@1.1.0"),
    ]
    for component in components:  # warm the caches
        suggest_cpes(component, nvd)
    start = time.perf_counter()
    for _ in range(10):
        for component in components:
            suggest_cpes(component, nvd)
    assert (time.perf_counter() - start) / 40 < 0.02  # a few ms each; 20 ms leaves room for slow CI
