"""The index of many systems gives exactly what ``evaluate`` gives per vulnerability and system."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ismp.engines.feeds.base import ConfigNode, Configuration, CpeMatch, VulnRecord
from ismp.engines.feeds.nvd import NvdAdapter
from ismp.engines.inventory.records import ComponentRecord
from ismp.engines.matching import Match, evaluate
from ismp.engines.matching.index import CriteriaIndex, order_key


def app(vendor: str, product: str, version: str, part: str = "a", update: str = "*") -> ComponentRecord:
    return ComponentRecord(line=0, cpe=f"cpe:2.3:{part}:{vendor}:{product}:{version}:{update}:*:*:*:*:*:*")


def _key(matches: list[Match]) -> set[tuple[str, ComponentRecord, str, str]]:
    return {(m.criterion, m.component, m.confidence, m.evidence) for m in matches}


def _expected(configurations: dict[int, list[Configuration]], system: list[ComponentRecord]) -> dict[int, set]:
    found = {key: _key(evaluate(configs, system)) for key, configs in configurations.items()}
    return {key: value for key, value in found.items() if value}


VERSIONS = st.sampled_from(["1.0", "1.0.0", "1.5", "2.0", "2.1", "3", "-", "*", "1.*", ""])
CRITERIA = st.builds(
    lambda product, version, update, vulnerable, end: CpeMatch(
        f"cpe:2.3:a:example:{product}:{version}:{update}:*:*:*:*:*:*", vulnerable, version_end_excluding=end
    ),
    product=st.sampled_from(["server", "client", "*", "serv*"]),
    version=st.sampled_from(["*", "-", "1.0", "2.0", "1.*", "3"]),
    update=st.sampled_from(["*", "-", "sp1"]),
    vulnerable=st.booleans(),
    end=st.sampled_from(["", "2.0", "x"]),
)
NODES = st.recursive(
    st.builds(
        ConfigNode,
        operator=st.sampled_from(["AND", "OR"]),
        negate=st.booleans(),
        matches=st.lists(CRITERIA, min_size=1, max_size=3).map(tuple),
    ),
    lambda children: st.builds(
        ConfigNode,
        operator=st.sampled_from(["AND", "OR"]),
        negate=st.booleans(),
        children=st.lists(children, min_size=1, max_size=2).map(tuple),
    ),
    max_leaves=4,
)
CONFIGURATIONS = st.lists(
    st.builds(Configuration, nodes=st.lists(NODES, min_size=1, max_size=3).map(tuple)), max_size=2
)
SYSTEMS = st.lists(
    st.builds(
        lambda product, version, update: (
            ComponentRecord(line=0, vendor="example", product=product, version=version)
            if update == "free text"
            else app("example", product, version or "*", update=update)
        ),
        product=st.sampled_from(["server", "client", "service"]),
        version=VERSIONS,
        update=st.sampled_from(["*", "-", "sp1", "free text"]),
    ),
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(vulns=st.lists(CONFIGURATIONS, min_size=1, max_size=4), systems=st.lists(SYSTEMS, min_size=1, max_size=3))
def test_index_equals_evaluate(vulns: list[list[Configuration]], systems: list[list[ComponentRecord]]) -> None:
    configurations = dict(enumerate(vulns))
    index = CriteriaIndex()
    for key, configs in configurations.items():
        index.put(key, configs)
    for system in systems:
        got = {key: _key(matches) for key, matches in index.match(system).items()}
        assert got == _expected(configurations, system)


@settings(max_examples=100, deadline=None)
@given(before=CONFIGURATIONS, after=CONFIGURATIONS, system=SYSTEMS)
def test_replacing_a_vulnerability_forgets_what_it_said(
    before: list[Configuration], after: list[Configuration], system: list[ComponentRecord]
) -> None:
    index = CriteriaIndex()
    index.put(1, before)
    index.match(system)  # fills the cache of judgements
    index.put(1, after)
    got = {key: _key(matches) for key, matches in index.match(system).items()}
    assert got == _expected({1: after}, system)
    index.discard(1)
    assert index.match(system) == {} and 1 not in index


def test_order_key_joins_versions_the_generic_scheme_orders_as_equal() -> None:
    assert order_key("4.3") == order_key("4.3.0") == order_key("v4.3")
    assert order_key("4.3") != order_key("4.3.1")
    assert order_key("1.0.1g") != order_key("1.0.1")


@pytest.fixture(scope="module")
def nvd_2014(shared_data: Path) -> list[VulnRecord]:
    feed = shared_data / "vuln" / "nvd" / "feeds-1.1" / "nvdcve-1.1-2014.json.gz"
    return [r for r in NvdAdapter().read(feed) if isinstance(r, VulnRecord) and r.configurations]


def test_index_equals_evaluate_on_a_real_year(nvd_2014: list[VulnRecord]) -> None:
    systems = [
        [app("gnu", "bash", "4.3"), app("openssl", "openssl", "1.0.1f"), app("linux", "linux_kernel", "3.2", "o")],
        [app("apache", "http_server", "2.2.22"), app("php", "php", "5.4.4"), app("oracle", "mysql", "5.5.20")],
        [app("microsoft", "windows_7", "-", "o", "sp1"), app("microsoft", "internet_explorer", "9")],
        [ComponentRecord(line=0, part="a", vendor="mozilla", product="firefox", version="30.0")],
        [app("cisco", "ios", "15.0\\(1\\)m", "o"), ComponentRecord(line=0, part="a", vendor="gnu", product="bash")],
    ]
    index = CriteriaIndex()
    for key, record in enumerate(nvd_2014):
        index.put(key, record.configurations)
    total = 0
    for system in systems:
        got = {key: _key(matches) for key, matches in index.match(system).items()}
        expected = _expected({k: list(r.configurations) for k, r in enumerate(nvd_2014)}, system)
        assert got == expected
        total += len(got)
    assert total > 100  # the systems are vulnerable to many of 2014's CVEs: the comparison means something


CHANGES = st.lists(
    st.tuples(st.integers(min_value=0, max_value=3), st.one_of(st.none(), CONFIGURATIONS)), min_size=1, max_size=6
)


@settings(max_examples=200, deadline=None)
@given(first=st.lists(CONFIGURATIONS, min_size=1, max_size=4), changes=CHANGES, systems=st.lists(SYSTEMS, max_size=3))
def test_the_index_stays_equal_to_evaluate_through_puts_and_discards(
    first: list[Configuration],
    changes: list[tuple[int, list[Configuration] | None]],
    systems: list[list[ComponentRecord]],
) -> None:
    """Judgements cached before a change keep what other vulnerabilities said and take the new criteria."""
    configurations = dict(enumerate(first))
    index = CriteriaIndex()
    for key, configs in configurations.items():
        index.put(key, configs)
    for system in systems:
        index.match(system)  # fills the cache of judgements (and of trees)
    for key, configs in changes:
        if configs is None:
            index.discard(key)
            configurations.pop(key, None)
        else:
            index.put(key, configs)
            configurations[key] = configs
        for system in systems:
            got = {k: _key(matches) for k, matches in index.match(system).items()}
            assert got == _expected(configurations, system)
            only = {key, 0}
            got_only = {k: _key(matches) for k, matches in index.match(system, only).items()}
            assert got_only == {k: v for k, v in _expected(configurations, system).items() if k in only}
        many = dict(index.match_many(dict(enumerate(systems)), {key, 0}))
        for number, system in enumerate(systems):
            got_many = {k: _key(matches) for k, matches in many[number].items()}
            assert got_many == {k: v for k, v in _expected(configurations, system).items() if k in {key, 0}}
    assert len(index) == len(configurations)


def test_a_changed_vulnerability_is_judged_again_against_cached_components() -> None:
    """A range widened by a feed update reaches a component judged before it (and nothing else moves)."""
    bash = app("gnu", "bash", "4.3")
    index = CriteriaIndex()
    index.put(1, [Configuration(nodes=(ConfigNode(matches=(CpeMatch(BASH, True, version_end_excluding="4.3"),)),))])
    index.put(2, [Configuration(nodes=(ConfigNode(matches=(CpeMatch(BASH, True, version_end_including="4.3"),)),))])
    assert set(index.match([bash])) == {2}
    index.put(1, [Configuration(nodes=(ConfigNode(matches=(CpeMatch(BASH, True, version_end_including="4.4"),)),))])
    assert set(index.match([bash])) == {1, 2}
    assert set(index.match([bash], only={1})) == {1}
    index.discard(2)
    assert set(index.match([bash])) == {1}


BASH = "cpe:2.3:a:gnu:bash:*:*:*:*:*:*:*:*"
