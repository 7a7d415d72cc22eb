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
from ismp.engines.matching import Match, Relation, compare_attribute, evaluate, match_criterion, name_relation

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
