"""Vendor/product aliases: normalise, AliasTable.canonical, and the built-in table checked against the
real feeds in ../shared/data/vuln (KEV and JVN names of real CVEs resolve to the NVD names of that CVE)."""

from __future__ import annotations

import csv
import gzip
import json
from collections import defaultdict
from pathlib import Path

import pytest

from ismp.engines.cpe import parse_cpe, plain
from ismp.engines.feeds.jvn import parse_response
from ismp.engines.matching.aliases import Alias, AliasTable, builtin_aliases, builtin_table, normalise, read_aliases


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Microsoft Corporation", "microsoft"),
        ("Cybozu, Inc.", "cybozu"),
        ("Hitachi, Ltd.", "hitachi"),
        ("Trend Micro, Inc.", "trend_micro"),
        ("FUJITSU LIMITED", "fujitsu"),
        ("Sharp Co., Ltd.", "sharp"),
        ("SAP SE", "sap"),
        ("サイボウズ株式会社", "サイボウズ"),
        ("株式会社 日立製作所", "日立製作所"),
        ("ＡＢＣ　Ｓｏｆｔ", "abc_soft"),  # full-width letters and space (NFKC)
        ("Apache HTTP Server", "apache_http_server"),
        ("http-server", "http_server"),
        ("http__server", "http_server"),
        ("foo\\!bar", "foo!bar"),  # CPE quoting removed
        ("Inc.", "inc"),  # nothing but a corporate form: kept, not emptied
        ("  Cisco Systems  ", "cisco_systems"),
    ],
)
def test_normalise(name: str, expected: str) -> None:
    assert normalise(name) == expected


def test_vendor_alias_applies_to_every_product_and_product_alias_wins() -> None:
    table = AliasTable(
        [
            Alias("Apache Software Foundation", "", "apache"),
            Alias("Apache Software Foundation", "Tomcat Native", "apache", "tomcat_native_library"),
        ]
    )
    assert table.canonical("Apache Software Foundation", "Struts") == ("apache", "struts")
    assert table.canonical("apache software foundation", "Tomcat Native") == ("apache", "tomcat_native_library")
    assert table.lookup("Apache Software Foundation", "Tomcat Native") == ("apache", "tomcat_native_library")
    assert table.canonical("Apache Software Foundation", "Apache Struts") == ("apache", "struts")  # vendor repeated
    assert table.canonical("Apache Software Foundation", "Apache Struts") == table.canonical("apache", "struts")
    assert table.lookup("Apache", "Struts") is None


def test_unknown_names_come_back_normalised() -> None:
    table = AliasTable()
    assert table.canonical("Example Corporation", "Web-Server") == ("example", "web_server")
    assert table.canonical("Example", "Example Web Server") == ("example", "web_server")
    assert table.canonical("openssl", "openssl") == ("openssl", "openssl")


def test_a_product_alias_reached_through_the_renamed_vendor() -> None:
    table = AliasTable([Alias("D-Link Systems", "", "dlink"), Alias("dlink", "DIR 605L", "dlink", "dir-605l_firmware")])
    assert table.lookup("D-Link Systems, Inc.", "DIR-605L") == ("dlink", "dir-605l_firmware")
    assert table.canonical("D-Link Systems, Inc.", "DIR-605L") == table.canonical("dlink", "dir-605l_firmware")


def test_later_entries_win_so_a_csirt_can_override_the_builtin_table() -> None:
    table = builtin_table()
    table.add(Alias("Juniper Networks", "", "juniper_networks_override", source="csirt"))
    assert table.canonical("Juniper Networks", "Junos") == ("juniper_networks_override", "junos")


def test_read_aliases_names_the_bad_row() -> None:
    with pytest.raises(ValueError, match="line 3"):
        read_aliases(["# comment", "alias_vendor,alias_product,vendor,product,source,note", "x,,,,kev,"])


def test_builtin_table_is_consistent() -> None:
    entries = builtin_aliases()
    assert len(entries) > 500
    assert {e.source for e in entries} == {"kev", "cve5", "jvn", "osv", "debian"}
    targets: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    for e in entries:
        assert e.vendor == e.vendor.strip().lower() and e.note, e
        targets[(normalise(e.alias_vendor), normalise(e.alias_product))].add((e.vendor, e.product))
    assert {k: v for k, v in targets.items() if len(v) > 1} == {}
    # an entry that normalise() alone already satisfies is dead weight
    assert [e for e in entries if not e.alias_product and normalise(e.alias_vendor) == normalise(e.vendor)] == []


@pytest.mark.parametrize(
    ("vendor", "product", "expected"),
    [
        ("Apache Software Foundation", "Apache Struts", ("apache", "struts")),
        ("Juniper Networks", "Junos OS", ("juniper", "junos_os")),
        ("Linux", "Kernel", ("linux", "linux_kernel")),  # KEV
        ("Google", "Chromium V8", ("google", "chrome")),  # KEV
        ("Oracle", "MySQL Server", ("oracle", "mysql")),  # CNA
        ("Red Hat, Inc.", "Enterprise Linux", ("redhat", "enterprise_linux")),
        ("D-Link", "DIR-605L", ("dlink", "dir-605l_firmware")),
        ("三菱電機", "MELSEC iQ-R シリーズ", ("mitsubishielectric", "melsec_iq-r_firmware")),  # JVN
        ("日本電気", "Aterm WG2600HS", ("nec", "aterm_wg2600hs")),
        ("pkg:pypi", "Django", ("djangoproject", "django")),  # OSV
        ("pkg:deb", "httpcomponents-client", ("apache", "httpclient")),  # Debian CPE/list
    ],
)
def test_builtin_table_names(vendor: str, product: str, expected: tuple[str, str]) -> None:
    table = builtin_table()
    assert table.lookup(vendor, product) == expected
    assert table.canonical(vendor, product) == table.canonical(*expected)


def nvd_products(feed: Path) -> dict[str, set[tuple[str, str]]]:
    """CVE id → the (vendor, product) of its vulnerable CPE criteria, from an NVD JSON 1.1 feed."""
    found: dict[str, set[tuple[str, str]]] = defaultdict(set)

    def walk(nodes: list[dict[str, object]], cve: str) -> None:
        for node in nodes:
            for match in node.get("cpe_match", []):  # type: ignore[union-attr]
                if match["vulnerable"]:
                    name = parse_cpe(match["cpe23Uri"])
                    found[cve].add((plain(name.vendor), plain(name.product)))
            walk(node.get("children", []), cve)  # type: ignore[arg-type]

    with gzip.open(feed, "rt", encoding="utf-8") as stream:
        for item in json.load(stream)["CVE_Items"]:
            walk(item["configurations"]["nodes"], item["cve"]["CVE_data_meta"]["ID"])
    return found


@pytest.fixture(scope="module")
def nvd_2017(shared_data: Path) -> dict[str, set[tuple[str, str]]]:
    return nvd_products(shared_data / "vuln" / "nvd" / "feeds-1.1" / "nvdcve-1.1-2017.json.gz")


def test_kev_names_of_real_cves_resolve_to_the_nvd_names_of_that_cve(
    shared_data: Path, nvd_2017: dict[str, set[tuple[str, str]]]
) -> None:
    table = builtin_table()
    with (shared_data / "vuln" / "cisa-kev" / "known_exploited_vulnerabilities.csv").open(encoding="utf-8") as f:
        kev = [(r["cveID"], r["vendorProject"], r["product"]) for r in csv.DictReader(f) if r["cveID"] in nvd_2017]
    aliased = [(cve, v, p) for cve, v, p in kev if table.knows(v, p) or table.knows(v)]
    assert aliased, "no KEV entry of 2017 has an alias"
    # canonical() is compared with canonical() of the other side, never with a raw CPE value
    resolved = [(cve, v, p) for cve, v, p in aliased if table.canonical(v, p) in canonical_of(table, nvd_2017[cve])]
    assert len(resolved) / len(aliased) >= 0.9, sorted(set(aliased) - set(resolved))[:10]
    assert ("CVE-2017-1000253", "Linux", "Kernel") in resolved  # KEV "Linux"/"Kernel" is linux:linux_kernel
    assert table.canonical("Apache", "Struts") in canonical_of(table, nvd_2017["CVE-2017-5638"])
    assert table.canonical("Palo Alto Networks", "PAN-OS") == table.canonical("paloaltonetworks", "pan-os")


def canonical_of(table: AliasTable, pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
    return {table.canonical(vendor, product) for vendor, product in pairs}


def test_jvn_names_resolve_to_the_cpe_jvn_gives(shared_data: Path) -> None:
    path = shared_data / "vuln" / "jvn" / "examples" / "hnd" / "dataFeed_jvndb_detail_hnd.xml"
    response = parse_response(path.read_bytes(), path.name)
    table = builtin_table()
    pairs = {
        (affected.vendor, affected.product, cpe)
        for record in response.records
        for affected in record.affected
        for cpe in affected.cpes
    }
    japanese = [(v, p, cpe) for v, p, cpe in pairs if not v.isascii()]
    assert japanese
    for vendor, product, cpe in japanese:
        name = parse_cpe(cpe)
        assert table.canonical(vendor, product)[0] == table.canonical(plain(name.vendor), "")[0], (vendor, product)
