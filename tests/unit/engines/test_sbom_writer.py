"""SBOM writers: CycloneDX 1.6 and SPDX 2.3 JSON read back by the readers to the same components."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packageurl import PackageURL

from ismp.engines.inventory.component import make_component
from ismp.engines.inventory.records import ComponentRecord
from ismp.engines.inventory.sbom import merge_duplicates, read_sbom
from ismp.engines.inventory.sbom_writer import write_cyclonedx_json, write_spdx_json

MB = 1024 * 1024
WHEN = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=timezone(timedelta(hours=9)))
Writer = Callable[[str, Iterable[ComponentRecord]], bytes]
WRITERS: dict[str, Writer] = {
    "cyclonedx": lambda name, components: write_cyclonedx_json(name, components, timestamp=WHEN),
    "spdx": lambda name, components: write_spdx_json(name, components, timestamp=WHEN),
}
Fields = tuple[str, str, str, str, str, str]


def fields(components: Iterable[ComponentRecord]) -> set[Fields]:
    return {(c.cpe, c.purl, c.part, c.vendor, c.product, c.version) for c in components}


def round_trip(writer: str, components: list[ComponentRecord]) -> set[Fields]:
    return fields(read_sbom(WRITERS[writer]("システムA", components), "out.json", max_bytes=50 * MB).components)


# --- generated components -----------------------------------------------------------------------------

_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=8)
_VERSION = st.one_of(st.just(""), st.text(alphabet="0123456789.", min_size=1, max_size=6).filter(str.strip))
_JAPANESE = st.text(alphabet="アイウエオ漢字製品管理システムー・", min_size=1, max_size=10)
_VENDOR = st.sampled_from(["", "Acme", "株式会社サンプル", "Acme (Japan)", "Foo, Inc."])
_CPE = st.builds(
    lambda part, vendor, product, version: f"cpe:2.3:{part}:{vendor}:{product}:{version or '*'}:*:*:*:*:*:*:*",
    st.sampled_from(["a", "o", "h"]),
    _WORD,
    _WORD,
    _VERSION,
)
_PURL = st.builds(
    lambda kind, namespace, name, version: PackageURL(kind, namespace or None, name, version or None).to_string(),
    st.sampled_from(["npm", "pypi", "golang", "deb"]),
    st.one_of(st.just(""), _WORD),
    _WORD,
    _VERSION,
)


@st.composite
def components(draw: st.DrawFn) -> ComponentRecord:
    cpe = draw(st.one_of(st.just(""), _CPE))
    purl = draw(st.one_of(st.just(""), _PURL))
    product = draw(st.one_of(st.just(""), _JAPANESE) if cpe or purl else _JAPANESE)
    # Beside a CPE, part and vendor are the CPE's; without one a part is needed (see sbom_writer's docstring).
    part = "" if cpe else draw(st.sampled_from(["a", "o", "h"]))
    vendor = "" if cpe else draw(_VENDOR)
    return make_component(
        line=None, file="", cpe=cpe, purl=purl, part=part, vendor=vendor, product=product, version=draw(_VERSION)
    )


@pytest.mark.parametrize("writer", WRITERS)
@settings(max_examples=150, deadline=None)
@given(st.lists(components(), max_size=12))
def test_generated_components_round_trip(writer: str, generated: list[ComponentRecord]) -> None:
    assert round_trip(writer, generated) == fields(merge_duplicates(generated))


@pytest.mark.parametrize("writer", WRITERS)
@settings(max_examples=50, deadline=None)
@given(st.lists(components(), max_size=8))
def test_same_input_gives_same_bytes(writer: str, generated: list[ComponentRecord]) -> None:
    first = WRITERS[writer]("system", generated)
    assert WRITERS[writer]("system", generated) == first
    distinct = list({component.key: component for component in generated}.values())
    assert WRITERS[writer]("system", reversed(distinct)) == WRITERS[writer]("system", distinct)


@pytest.mark.parametrize("writer", WRITERS)
def test_a_component_without_cpe_or_part_is_read_back_as_an_application(writer: str) -> None:
    bare = make_component(line=None, file="", product="社内ツール", version="1.0")
    assert round_trip(writer, [bare]) == {("", "", "a", "", "社内ツール", "1.0")}


# --- the documents ------------------------------------------------------------------------------------

SAMPLE = [
    make_component(line=None, file="", cpe="cpe:2.3:o:debian:debian_linux:12:*:*:*:*:*:*:*"),
    make_component(line=None, file="", purl="pkg:npm/%40angular/core@17.0.0"),
    make_component(line=None, file="", part="h", vendor="Cisco", product="ルーター", version="15.2"),
]


def test_cyclonedx_document_has_the_required_keys() -> None:
    bom = json.loads(write_cyclonedx_json("基幹システム", SAMPLE, version="2.1", timestamp=WHEN))
    assert bom["bomFormat"] == "CycloneDX" and bom["specVersion"] == "1.6" and bom["version"] == 1
    assert bom["serialNumber"].startswith("urn:uuid:") and len(bom["serialNumber"]) == 45
    assert bom["metadata"]["timestamp"] == "2024-05-05T22:08:09Z"
    assert bom["metadata"]["tools"] == {"components": [{"type": "application", "name": "ISMP"}]}
    assert bom["metadata"]["component"] == {
        "type": "application",
        "bom-ref": "system",
        "name": "基幹システム",
        "version": "2.1",
    }
    assert [(c["type"], c["name"]) for c in bom["components"]] == [
        ("operating-system", "debian_linux"),
        ("device", "ルーター"),
        ("library", "core"),
    ]
    refs = [c["bom-ref"] for c in bom["components"]]
    assert refs == sorted(c.key for c in SAMPLE) and len(set(refs)) == len(refs)
    assert [c.get("publisher") for c in bom["components"]] == ["debian", "Cisco", "@angular"]
    assert bom["components"][0]["cpe"] == SAMPLE[0].cpe and bom["components"][2]["purl"] == SAMPLE[1].purl


def test_spdx_document_has_the_required_keys() -> None:
    document = json.loads(write_spdx_json("基幹システム", SAMPLE, timestamp=WHEN))
    assert (document["spdxVersion"], document["dataLicense"], document["SPDXID"]) == (
        "SPDX-2.3",
        "CC0-1.0",
        "SPDXRef-DOCUMENT",
    )
    assert document["documentNamespace"].startswith("https://ismp.invalid/spdx/")
    assert document["creationInfo"] == {"created": "2024-05-05T22:08:09Z", "creators": ["Tool: ISMP"]}
    packages = document["packages"]
    assert [p["SPDXID"] for p in packages] == ["SPDXRef-Package-1", "SPDXRef-Package-2", "SPDXRef-Package-3"]
    assert [p["supplier"] for p in packages] == [
        "Organization: debian",
        "Organization: Cisco",
        "Organization: @angular",
    ]
    assert all(p["downloadLocation"] == "NOASSERTION" and p["filesAnalyzed"] is False for p in packages)
    assert packages[0]["externalRefs"][0]["referenceType"] == "cpe23Type"
    assert packages[2]["externalRefs"][0]["referenceCategory"] == "PACKAGE-MANAGER"
    assert {(r["spdxElementId"], r["relationshipType"]) for r in document["relationships"]} == {
        ("SPDXRef-DOCUMENT", "DESCRIBES")
    }
    assert [r["relatedSpdxElement"] for r in document["relationships"]] == [p["SPDXID"] for p in packages]


def test_a_naive_timestamp_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        write_spdx_json("x", SAMPLE, timestamp=datetime(2024, 1, 1))
    assert json.loads(write_spdx_json("x", [], timestamp=datetime(2024, 1, 1, tzinfo=UTC)))["packages"] == []


# --- real SBOMs ---------------------------------------------------------------------------------------

REAL = [
    "cyclonedx/cdxex__juice-shop-v11.1.2.bom.json",
    "cyclonedx/cdxex__laravel-7.12.0.bom.1.4.xml",
    "cyclonedx/trivy__fluentd-multiple-lockfiles.cdx.json.golden.json",
    "spdx/spdxtools__SPDXJSONExample-v2.3.spdx.json",
    "spdx/spdxtools__invalid-trivy-fluentd.spdx.json",
    "spdx/spdxtools__SPDXTagExample-v2.3.spdx",
]


@pytest.mark.shared_data
@pytest.mark.parametrize("writer", WRITERS)
@pytest.mark.parametrize("relative", REAL)
def test_real_sbom_round_trips(shared_data: Path, relative: str, writer: str) -> None:
    path = shared_data / "scans" / relative
    original = read_sbom(path.read_bytes(), path.name, max_bytes=50 * MB)
    assert original.components
    assert round_trip(writer, original.components) == fields(original.components)
