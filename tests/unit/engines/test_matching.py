"""Matching engine: NISTIR 7696 name relations and NVD configuration evaluation on real NVD 1.1 records."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ismp.engines.cpe import parse_cpe
from ismp.engines.feeds.base import ConfigNode, Configuration, CpeMatch, VulnRecord
from ismp.engines.feeds.nvd import NvdAdapter
from ismp.engines.inventory.records import ComponentRecord
from ismp.engines.matching import (
    Match,
    Relation,
    compare_attribute,
    component_name,
    evaluate,
    match_criterion,
    name_relation,
)
from ismp.engines.matching.evaluate import matching_name
from ismp.engines.matching.index import CriteriaIndex
from ismp.engines.matching.names import canonical_update

WANTED = {"CVE-2014-6271", "CVE-2014-0160", "CVE-2017-5638", "CVE-2017-0015", "CVE-2017-0143"}


@pytest.fixture(scope="module")
def nvd(shared_data: Path) -> dict[str, VulnRecord]:
    feeds = shared_data / "vuln" / "nvd" / "feeds-1.1"
    records: dict[str, VulnRecord] = {}
    for year in (2014, 2017):
        for record in NvdAdapter().read(feeds / f"nvdcve-1.1-{year}.json.gz"):
            if isinstance(record, VulnRecord) and record.id in WANTED:
                records[record.id] = record
    assert set(records) == WANTED
    return records


def component(cpe: str, line: int = 1) -> ComponentRecord:
    return ComponentRecord(line=line, cpe=cpe)


def app(vendor: str, product: str, version: str, part: str = "a") -> ComponentRecord:
    return component(f"cpe:2.3:{part}:{vendor}:{product}:{version}:*:*:*:*:*:*:*")


def matches_for(record: VulnRecord, *components: ComponentRecord) -> list[Match]:
    return evaluate(record.configurations, components)


def criteria(matches: list[Match]) -> set[str]:
    return {m.criterion for m in matches}


# --------------------------------------------------------------------------------- NISTIR 7696 names


@pytest.mark.parametrize(
    ("source", "target", "relation"),
    [
        ("*", "*", Relation.EQUAL),
        ("*", "-", Relation.SUPERSET),
        ("*", "4.3", Relation.SUPERSET),
        ("-", "*", Relation.SUBSET),
        ("-", "-", Relation.EQUAL),
        ("-", "4.3", Relation.DISJOINT),
        ("4.3", "*", Relation.SUBSET),
        ("4.3", "-", Relation.DISJOINT),
        ("4.3", "4.3", Relation.EQUAL),
        ("4.3", "4.4", Relation.DISJOINT),
        ("8.*", "8.0.1", Relation.SUPERSET),
        ("8.*", "9.0", Relation.DISJOINT),
        ("sp?", "sp2", Relation.SUPERSET),
        ("sp?", "sp10", Relation.DISJOINT),
        ("??1.0", "001.0", Relation.SUPERSET),
        ("4.3", "8.*", Relation.UNDEFINED),
        # quoting: a quoted * is a literal asterisk, not a wildcard; quoted punctuation compares unquoted
        ("8\\*", "8\\*", Relation.EQUAL),
        ("8\\*", "80", Relation.DISJOINT),
        ("16.10.3\\(3794\\)", "16.10.3\\(3794\\)", Relation.EQUAL),
    ],
)
def test_attribute_relations_follow_nistir_7696_table(source: str, target: str, relation: Relation) -> None:
    assert compare_attribute(source, target) is relation


def test_name_relation_of_whole_names() -> None:
    criterion = parse_cpe("cpe:2.3:a:gnu:bash:*:*:*:*:*:*:*:*")
    assert name_relation(criterion, parse_cpe("cpe:2.3:a:gnu:bash:4.3:*:*:*:*:*:*:*")) is Relation.SUPERSET
    assert name_relation(criterion, criterion) is Relation.EQUAL
    assert name_relation(criterion, parse_cpe("cpe:2.3:a:gnu:glibc:2.3:*:*:*:*:*:*:*")) is Relation.DISJOINT
    broader = parse_cpe("cpe:2.3:a:gnu:*:*:*:*:*:*:*:*:*")
    assert name_relation(criterion, broader) is Relation.SUBSET


def test_escaped_criterion_version_matches_its_plain_inventory_version(nvd: dict[str, VulnRecord]) -> None:
    # CVE-2014-0160 names Ricon firmware 16.10.3(3794) with quoted parentheses; an inventory writes it plainly
    firmware = next(
        m
        for c in nvd["CVE-2014-0160"].configurations
        for n in c.nodes
        for child in n.children
        for m in child.matches
        if "ricon:s9922l_firmware" in m.criteria
    )
    inventory = ComponentRecord(line=1, part="o", vendor="ricon", product="s9922l_firmware", version="16.10.3(3794)")
    match = match_criterion(firmware, inventory)
    assert match is not None
    assert match.confidence == "high"


# ------------------------------------------------------------------------------------ real records


def test_shellshock_bash_4_3_matches_with_high_confidence(nvd: dict[str, VulnRecord]) -> None:
    bash = app("gnu", "bash", "4.3")
    [match] = matches_for(nvd["CVE-2014-6271"], bash, app("openbsd", "openssh", "6.6"))
    assert match.component == bash
    assert match.confidence == "high"
    assert match.criterion == "cpe:2.3:a:gnu:bash:*:*:*:*:*:*:*:*"
    assert match.evidence == (
        "cpe:2.3:a:gnu:bash:*:*:*:*:*:*:*:* versionEndIncluding 4.3 ∋ 4.3 "
        "(component cpe:2.3:a:gnu:bash:4.3:*:*:*:*:*:*:*)"
    )


def test_shellshock_bash_4_4_is_not_affected(nvd: dict[str, VulnRecord]) -> None:
    assert matches_for(nvd["CVE-2014-6271"], app("gnu", "bash", "4.4")) == []


@pytest.mark.parametrize(
    ("version", "affected"), [("1.0.1", True), ("1.0.1f", True), ("1.0.1g", False), ("1.0.0", False)]
)
def test_heartbleed_openssl_range(nvd: dict[str, VulnRecord], version: str, affected: bool) -> None:
    found = matches_for(nvd["CVE-2014-0160"], app("openssl", "openssl", version))
    if affected:
        [match] = found
        assert match.confidence == "high"
        assert "versionStartIncluding 1.0.1, versionEndExcluding 1.0.1g" in match.evidence
    else:
        assert found == []


@pytest.mark.parametrize(
    ("version", "affected"),
    [
        ("2.2.2", False),  # just below versionStartIncluding 2.2.3
        ("2.2.3", True),  # start bound is inclusive
        ("2.3.5", True),
        ("2.3.31", True),
        ("2.3.32", False),  # end bound is exclusive
        ("2.5.0", True),
        ("2.5.10", True),
        ("2.5.10.1", False),  # end bound is exclusive
        ("2.5.12", False),
    ],
)
def test_struts_cve_2017_5638_bounds(nvd: dict[str, VulnRecord], version: str, affected: bool) -> None:
    found = matches_for(nvd["CVE-2017-5638"], app("apache", "struts", version))
    assert bool(found) is affected
    assert all(m.confidence == "high" for m in found)


def test_running_on_platform_is_required_and_never_reported(nvd: dict[str, VulnRecord]) -> None:
    # CVE-2017-0015: AND(OR(edge -, vulnerable), OR(windows_10 *, windows_10 1511; vulnerable:false))
    record = nvd["CVE-2017-0015"]
    edge = app("microsoft", "edge", "-")
    windows = app("microsoft", "windows_10", "1607", part="o")
    [match] = matches_for(record, edge, windows)
    assert match.component == edge
    assert "edge" in match.criterion
    assert match.confidence == "high"
    assert matches_for(record, edge) == []  # Edge without Windows 10: the configuration does not apply
    assert matches_for(record, windows) == []  # the platform alone is never vulnerable


def test_version_any_without_bounds_is_medium_and_says_wildcard(nvd: dict[str, VulnRecord]) -> None:
    # CVE-2017-0143: siemens tissue_preparation_system_firmware:* (no bounds) running on its hardware
    firmware = app("siemens", "tissue_preparation_system_firmware", "2.1", part="o")
    hardware = app("siemens", "tissue_preparation_system", "-", part="h")
    [match] = matches_for(nvd["CVE-2017-0143"], firmware, hardware)
    assert match.component == firmware
    assert match.confidence == "medium"
    assert "false positive" in match.reason
    assert "* (ANY)" in match.reason
    assert "wildcard" in match.evidence


def test_component_without_version_is_low(nvd: dict[str, VulnRecord]) -> None:
    bash = ComponentRecord(line=3, part="a", vendor="gnu", product="bash")
    [match] = matches_for(nvd["CVE-2014-6271"], bash)
    assert match.confidence == "low"
    assert "no version" in match.reason


def test_version_from_record_when_cpe_version_is_any(nvd: dict[str, VulnRecord]) -> None:
    bash = ComponentRecord(line=3, cpe="cpe:2.3:a:gnu:bash:*:*:*:*:*:*:*:*", version="4.2")
    [match] = matches_for(nvd["CVE-2014-6271"], bash)
    assert match.confidence == "high"


# ------------------------------------------------------------------------------------------- negate

APP = CpeMatch("cpe:2.3:a:example:server:*:*:*:*:*:*:*:*", version_end_excluding="2.0")
PLATFORM = CpeMatch("cpe:2.3:o:example:hardened_os:*:*:*:*:*:*:*:*", vulnerable=False)
NOT_ON_HARDENED = Configuration(
    nodes=(
        ConfigNode(
            operator="AND",
            children=(ConfigNode(matches=(APP,)), ConfigNode(negate=True, matches=(PLATFORM,))),
        ),
    )
)


def test_negated_node_excludes_systems_that_have_it() -> None:
    server = app("example", "server", "1.5")
    hardened = app("example", "hardened_os", "3", part="o")
    [match] = evaluate([NOT_ON_HARDENED], [server])
    assert match.component == server
    assert evaluate([NOT_ON_HARDENED], [server, hardened]) == []
    assert evaluate([NOT_ON_HARDENED], [hardened]) == []


def test_negated_configuration() -> None:
    negated = Configuration(negate=True, nodes=(ConfigNode(matches=(APP,)),))
    # a negated configuration holds when its content does not, and then has nothing to report
    assert evaluate([negated], [app("example", "server", "1.5")]) == []
    assert evaluate([negated], [app("example", "server", "2.5")]) == []


def test_and_is_not_flattened_to_or() -> None:
    both = Configuration(nodes=(ConfigNode(operator="AND", matches=(APP, PLATFORM)),))
    assert evaluate([both], [app("example", "server", "1.5")]) == []


# --------------------------------------------------------------------------------------- properties

VERSIONS = st.sampled_from(["1.0", "1.5", "1.9.9", "2.0", "2.1", "3"])
CRITERIA = st.builds(
    CpeMatch,
    criteria=st.sampled_from(
        [
            "cpe:2.3:a:example:server:*:*:*:*:*:*:*:*",
            "cpe:2.3:a:example:client:*:*:*:*:*:*:*:*",
            "cpe:2.3:o:example:hardened_os:*:*:*:*:*:*:*:*",
        ]
    ),
    vulnerable=st.booleans(),
    version_end_excluding=st.sampled_from(["", "2.0"]),
)
NODES = st.builds(
    ConfigNode,
    operator=st.sampled_from(["AND", "OR"]),
    negate=st.booleans(),
    matches=st.lists(CRITERIA, min_size=1, max_size=3).map(tuple),
)
SYSTEMS = st.lists(
    st.builds(
        app,
        vendor=st.just("example"),
        product=st.sampled_from(["server", "client", "hardened_os"]),
        version=VERSIONS,
    ),
    max_size=4,
)


def _key(matches: list[Match]) -> set[tuple[str, ComponentRecord, str]]:
    return {(m.criterion, m.component, m.confidence) for m in matches}


@settings(max_examples=200, deadline=None)
@given(nodes=st.lists(NODES, min_size=1, max_size=4), system=SYSTEMS, data=st.data())
def test_or_of_nodes_is_commutative(
    nodes: list[ConfigNode], system: list[ComponentRecord], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(nodes))
    first = evaluate([Configuration(nodes=tuple(nodes))], system)
    second = evaluate([Configuration(nodes=tuple(shuffled))], system)
    assert _key(first) == _key(second)


@settings(max_examples=200, deadline=None)
@given(nodes=st.lists(NODES, min_size=1, max_size=4), system=SYSTEMS)
def test_only_vulnerable_criteria_are_reported(nodes: list[ConfigNode], system: list[ComponentRecord]) -> None:
    vulnerable = {m.criteria for node in nodes for m in _criteria(node) if m.vulnerable}
    for match in evaluate([Configuration(nodes=tuple(nodes))], system):
        assert match.criterion in vulnerable
        assert match.component in system


def _criteria(node: ConfigNode) -> list[CpeMatch]:
    return [*node.matches, *(m for child in node.children for m in _criteria(child))]


@settings(max_examples=100, deadline=None)
@given(system=SYSTEMS)
def test_adding_a_platform_never_removes_an_unnegated_match(system: list[ComponentRecord]) -> None:
    configuration = Configuration(nodes=(ConfigNode(operator="AND", matches=(APP, PLATFORM)),))
    before = _key(evaluate([configuration], system))
    after = _key(evaluate([configuration], [*system, app("example", "hardened_os", "9", part="o")]))
    assert {k[:2] for k in before} <= {k[:2] for k in after}


def test_incomparable_version_is_low_never_high(nvd: dict[str, VulnRecord], monkeypatch: pytest.MonkeyPatch) -> None:
    import ismp.engines.versions

    monkeypatch.setattr(ismp.engines.versions, "in_range", lambda *args, **kwargs: None)
    [match] = matches_for(nvd["CVE-2014-6271"], app("gnu", "bash", "4.3"))
    assert match.confidence == "low"
    assert "cannot be compared" in match.reason


def test_platform_without_version_caps_the_vulnerable_match() -> None:
    bounded_platform = CpeMatch(
        "cpe:2.3:o:example:hardened_os:*:*:*:*:*:*:*:*", vulnerable=False, version_end_excluding="5"
    )
    configuration = Configuration(nodes=(ConfigNode(operator="AND", matches=(APP, bounded_platform)),))
    unversioned_os = ComponentRecord(line=2, part="o", vendor="example", product="hardened_os")
    [match] = evaluate([configuration], [app("example", "server", "1.5"), unversioned_os])
    assert match.confidence == "low"
    assert "platform" in match.reason


def test_unknown_update_in_component_is_medium(nvd: dict[str, VulnRecord]) -> None:
    # CVE-2014-6271 names oracle linux 5 with update "-"; an inventory that does not say is not a sure match
    [match] = matches_for(nvd["CVE-2014-6271"], app("oracle", "linux", "5", part="o"))
    assert match.criterion == "cpe:2.3:o:oracle:linux:5:-:*:*:*:*:*:*"
    assert match.confidence == "medium"
    assert "update unknown" in match.reason
    [exact] = matches_for(nvd["CVE-2014-6271"], component("cpe:2.3:o:oracle:linux:5:-:*:*:*:*:*:*"))
    assert exact.confidence == "high"


# ------------------------------------------------ vendor formats, update spellings, NA, unknown part

JUNOS_8_5_R1_14 = CpeMatch("cpe:2.3:o:juniper:junos:8.5:r1.14:*:*:*:*:*:*")
JRE_7_UPDATE_45 = CpeMatch("cpe:2.3:a:oracle:jre:1.7.0:update45:*:*:*:*:*:*")


def row(vendor: str, product: str, version: str, part: str = "a") -> ComponentRecord:
    return ComponentRecord(line=1, part=part, vendor=vendor, product=product, version=version)


@pytest.mark.parametrize(
    "junos",
    [
        row("juniper", "junos", "8.5R1.14", part="o"),
        component("cpe:2.3:o:juniper:junos:8.5r1.14:*:*:*:*:*:*:*"),
        ComponentRecord(line=1, cpe="cpe:2.3:o:juniper:junos:*:*:*:*:*:*:*:*", version="8.5R1.14"),
        component("cpe:2.3:o:juniper:junos:8.5:r1.14:*:*:*:*:*:*"),
    ],
)
def test_junos_release_8_5R1_14_is_nvd_version_8_5_update_r1_14(junos: ComponentRecord) -> None:
    match = match_criterion(JUNOS_8_5_R1_14, junos)
    assert match is not None and match.confidence == "high"
    if junos.version or "8.5r1.14" in junos.cpe:  # written the Juniper way: the evidence says how it was read
        assert "Junos 8.5r1.14 read as version 8.5, update r1.14" in match.evidence


@pytest.mark.parametrize(
    ("version", "criterion"),
    [
        ("8.5R3", "cpe:2.3:o:juniper:junos:8.5:r1.14:*:*:*:*:*:*"),  # another release
        ("9.0R1.14", "cpe:2.3:o:juniper:junos:8.5:r1.14:*:*:*:*:*:*"),
        ("12.2R8", "cpe:2.3:o:juniper:junos:12.2:r8-s2:*:*:*:*:*:*"),  # S2 is a later service release
    ],
)
def test_junos_other_release_is_not_affected(version: str, criterion: str) -> None:
    assert match_criterion(CpeMatch(criterion), row("juniper", "junos", version, part="o")) is None


@pytest.mark.parametrize(
    ("version", "criterion"),
    [
        ("12.2R8-S2", "cpe:2.3:o:juniper:junos:12.2:r8-s2:*:*:*:*:*:*"),  # service release
        ("12.1X46-D10", "cpe:2.3:o:juniper:junos:12.1x46:d10:*:*:*:*:*:*"),  # X release: x46 is in NVD's version
        ("15.1F6-S4", "cpe:2.3:o:juniper:junos:15.1:f6-s4:*:*:*:*:*:*"),  # feature release
    ],
)
def test_junos_service_feature_and_x_releases_split_as_nvd_names_them(version: str, criterion: str) -> None:
    match = match_criterion(CpeMatch(criterion), row("juniper", "junos", version, part="o"))
    assert match is not None and match.confidence == "high"


@pytest.mark.parametrize(
    "jre",
    [
        row("oracle", "jre", "1.7.0_45"),  # java -version
        row("oracle", "jre", "7u45"),  # Oracle's short form: Java 7 is 1.7.0
        component("cpe:2.3:a:oracle:jre:1.7.0_45:*:*:*:*:*:*:*"),
        component("cpe:2.3:a:oracle:jre:1.7.0:update_45:*:*:*:*:*:*"),
    ],
)
def test_java_1_7_0_45_is_nvd_jre_1_7_0_update45(jre: ComponentRecord) -> None:
    match = match_criterion(JRE_7_UPDATE_45, jre)
    assert match is not None and match.confidence == "high"
    assert match_criterion(CpeMatch("cpe:2.3:a:oracle:jre:1.7.0:update_45:*:*:*:*:*:*"), jre) is not None


def test_java_other_update_or_build_is_not_update_45() -> None:
    assert match_criterion(JRE_7_UPDATE_45, row("oracle", "jre", "1.7.0_51")) is None
    assert match_criterion(JRE_7_UPDATE_45, row("oracle", "jre", "1.7.0")) is not None  # update unknown
    built = CpeMatch("cpe:2.3:a:oracle:jre:1.7.0:update25_b35:*:*:*:*:*:*")
    assert match_criterion(built, row("oracle", "jre", "1.7.0_25-b35")) is not None


@pytest.mark.parametrize(
    ("version", "affected"),
    [("1.4.2_10", True), ("1.4.2_14", True), ("1.4.2_20", False), ("1.4.2", True), ("1.5.0_01", False)],
)
def test_java_range_bounds_compare_the_whole_java_version(version: str, affected: bool) -> None:
    # NVD writes Java ranges the vendor's way (sun:jre:* versionEndIncluding 1.4.2_14, CVE-2008-1187):
    # the split version 1.4.2 alone would put 1.4.2_20 inside
    ranged = CpeMatch("cpe:2.3:a:sun:jre:*:*:*:*:*:*:*:*", version_end_including="1.4.2_14")
    for jre in (row("sun", "jre", version), component(f"cpe:2.3:a:sun:jre:{version}:*:*:*:*:*:*:*")):
        match = match_criterion(ranged, jre)
        assert (match is not None) is affected
        assert match is None or match.confidence == "high"
    written_by_nvd = component("cpe:2.3:a:sun:jre:1.4.2:update_20:*:*:*:*:*:*")
    assert match_criterion(ranged, written_by_nvd) is None


def test_java_range_with_the_update_named_compares_the_version_alone() -> None:
    # CVE-2013-1500 writes "1.5.0 update 45 and earlier" as jre:*:update45 versionEndIncluding 1.5.0
    ranged = CpeMatch("cpe:2.3:a:oracle:jre:*:update45:*:*:*:*:*:*", version_end_including="1.5.0")
    match = match_criterion(ranged, row("oracle", "jre", "1.5.0_45"))
    assert match is not None and match.confidence == "high"
    assert match_criterion(ranged, row("oracle", "jre", "1.6.0_45")) is None


def test_nvd_java_version_with_its_update_joined_matches_both_spellings() -> None:
    joined = CpeMatch("cpe:2.3:a:sun:jre:1.4.2_25:*:*:*:*:*:*:*")  # CVE-2010-0843 writes it so
    for jre in (
        row("sun", "jre", "1.4.2_25"),
        component("cpe:2.3:a:sun:jre:1.4.2_25:*:*:*:*:*:*:*"),
        component("cpe:2.3:a:sun:jre:1.4.2:update25:*:*:*:*:*:*"),
    ):
        match = match_criterion(joined, jre)
        assert match is not None and match.confidence == "high"
    assert match_criterion(joined, row("sun", "jre", "1.4.2_24")) is None


@pytest.mark.parametrize(
    ("criterion", "version"),
    [
        ("cpe:2.3:a:perl:perl:5.003_92:*:*:*:*:*:*:*", "5.003_92"),  # no vendor format: compared as written
        ("cpe:2.3:o:juniper:screenos:6.2.0r18:*:*:*:*:*:*:*", "6.2.0r18"),  # NVD keeps ScreenOS joined
    ],
)
def test_products_without_a_vendor_format_are_not_split(criterion: str, version: str) -> None:
    part, vendor, product = criterion.split(":")[2:5]
    match = match_criterion(CpeMatch(criterion), row(vendor, product, version, part))
    assert match is not None and match.confidence == "high"
    assert "read as" not in match.evidence
    assert matching_name(row(vendor, product, version, part)) == parse_cpe(criterion)


def test_component_name_keeps_the_vendor_version_as_written() -> None:
    # affected[] ranges (CVE JSON 5, OSV) compare the vendor's whole version: only matching splits it
    name = component_name(row("juniper", "junos", "8.5R1.14", part="o"))
    assert name is not None and (name.version, name.update) == ("8.5r1.14", "*")
    read = matching_name(row("juniper", "junos", "8.5R1.14", part="o"))
    assert read is not None and (read.version, read.update) == ("8.5", "r1.14")


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("update_45", "update45"),
        ("update45", "update45"),
        ("beta-2", "beta2"),
        ("dev.5", "dev5"),
        ("r1.14", "r1.14"),  # between numbers: kept
        ("r8-s2", "r8-s2"),
        ("update9_b32", "update9_b32"),
        ("-", "-"),
        ("*", "*"),
    ],
)
def test_update_spellings_drop_the_separator_between_word_and_number(written: str, canonical: str) -> None:
    assert canonical_update(written) == canonical


def test_update_45_and_update45_are_the_same_update() -> None:
    underscore = component("cpe:2.3:a:oracle:jre:1.7.0:update_45:*:*:*:*:*:*")
    match = match_criterion(JRE_7_UPDATE_45, underscore)
    assert match is not None and match.confidence == "high"
    spelled = CpeMatch("cpe:2.3:a:sun:jre:1.6.0:update_1:*:*:*:*:*:*")
    assert match_criterion(spelled, component("cpe:2.3:a:sun:jre:1.6.0:update1:*:*:*:*:*:*")) is not None
    beta = CpeMatch("cpe:2.3:a:mozilla:seamonkey:2.0:beta_2:*:*:*:*:*:*")
    assert match_criterion(beta, component("cpe:2.3:a:mozilla:seamonkey:2.0:beta2:*:*:*:*:*:*")) is not None


def test_na_version_against_unbounded_any_is_the_wildcard_case_medium() -> None:
    # windows_xp:*:sp3 (CVE-2010-1891) against NVD's own XP SP3 name, version - (NA, stated)
    criterion = CpeMatch("cpe:2.3:o:microsoft:windows_xp:*:sp3:*:*:*:*:*:*")
    match = match_criterion(criterion, component("cpe:2.3:o:microsoft:windows_xp:-:sp3:*:*:*:*:*:*"))
    assert match is not None and match.confidence == "medium"
    assert "no version" not in match.reason and "false positive" in match.reason
    unknown = match_criterion(criterion, component("cpe:2.3:o:microsoft:windows_xp:*:sp3:*:*:*:*:*:*"))
    assert unknown is not None and unknown.confidence == "low"  # ANY is still "no version"
    na = match_criterion(CpeMatch("cpe:2.3:a:microsoft:edge:-:*:*:*:*:*:*:*"), app("microsoft", "edge", "-"))
    assert na is not None and na.confidence == "high"  # - against - stays high


def test_row_without_part_matches_capped_at_medium_naming_the_part(nvd: dict[str, VulnRecord]) -> None:
    no_part = ComponentRecord(line=1, vendor="openssl", product="openssl", version="1.0.1f")
    [match] = matches_for(nvd["CVE-2014-0160"], no_part)
    assert match.criterion == "cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*"
    assert match.confidence == "medium"
    assert "part unknown (*) where the criterion requires a" in match.reason
    assert matches_for(nvd["CVE-2014-6271"], row("gnu", "bash", "4.3", part="o")) == []  # a stated part decides
    assert matches_for(nvd["CVE-2014-0160"], ComponentRecord(line=1, vendor="openssl", product="openssl")) != []


VENDOR_FORMAT_CRITERIA = (
    JUNOS_8_5_R1_14,
    CpeMatch("cpe:2.3:o:juniper:junos:12.1x46:d10:*:*:*:*:*:*"),
    JRE_7_UPDATE_45,
    CpeMatch("cpe:2.3:a:sun:jre:1.4.2_25:*:*:*:*:*:*:*"),
    CpeMatch("cpe:2.3:a:sun:jre:*:*:*:*:*:*:*:*", version_end_including="1.4.2_14"),
    CpeMatch("cpe:2.3:a:oracle:jre:*:update45:*:*:*:*:*:*", version_end_including="1.5.0"),
    CpeMatch("cpe:2.3:o:microsoft:windows_xp:*:sp3:*:*:*:*:*:*"),
    CpeMatch("cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*", version_end_excluding="1.0.1g"),
)


@pytest.mark.parametrize(
    "system",
    [
        [row("juniper", "junos", "8.5R1.14", part="o"), row("juniper", "junos", "12.1X46-D10", part="o")],
        [row("oracle", "jre", "1.7.0_45"), row("oracle", "jre", "1.5.0_45"), row("sun", "jre", "1.4.2_25")],
        [
            row("sun", "jre", "1.4.2_10"),
            row("sun", "jre", "1.4.2_20"),
            component("cpe:2.3:a:sun:jre:1.4.2:update20:*:*:*:*:*:*"),
        ],
        [
            component("cpe:2.3:o:microsoft:windows_xp:-:sp3:*:*:*:*:*:*"),
            ComponentRecord(line=1, vendor="openssl", product="openssl", version="1.0.1f"),
        ],
    ],
)
def test_index_sees_the_same_names_as_evaluate(system: list[ComponentRecord]) -> None:
    configurations = {
        i: [Configuration(nodes=(ConfigNode(matches=(c,)),))] for i, c in enumerate(VENDOR_FORMAT_CRITERIA)
    }
    index = CriteriaIndex()
    for key, configs in configurations.items():
        index.put(key, configs)
    got = {
        key: {(m.criterion, m.component, m.confidence, m.evidence) for m in ms}
        for key, ms in index.match(system).items()
    }
    expected = {
        key: {(m.criterion, m.component, m.confidence, m.evidence) for m in evaluate(configs, system)}
        for key, configs in configurations.items()
    }
    assert got == {key: found for key, found in expected.items() if found}
    assert got  # every system matches something: the comparison means something
