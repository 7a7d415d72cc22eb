"""SBOM readers (CycloneDX JSON/XML, SPDX JSON/tag-value) and the format registry, on real and hostile files."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ismp.engines.inventory import registry
from ismp.engines.inventory.records import ComponentRecord, LedgerRow, SbomDocument
from ismp.engines.inventory.registry import detect_format, formats, read_inventory_file, register
from ismp.engines.inventory.sbom import read_sbom
from ismp.errors import InputError, InputErrors

MB = 1024 * 1024
# Parametrisation happens before fixtures exist; this mirrors tests/conftest.py::shared_data_dir.
SCANS = Path(os.environ.get("ISMP_SHARED_DATA", Path(__file__).resolve().parents[4] / "shared" / "data")) / "scans"
REAL_FILES = sorted(
    [*SCANS.glob("cyclonedx/*"), *SCANS.glob("spdx/*")] if SCANS.is_dir() else [],
    key=lambda path: path.name,
)


@pytest.fixture
def inventory(fixtures: Path) -> Path:
    return fixtures / "inventory"


@pytest.fixture
def scan(shared_data: Path) -> Callable[[str], SbomDocument]:
    def read(relative: str) -> SbomDocument:
        path = shared_data / "scans" / relative
        return read_sbom(path.read_bytes(), path.name, max_bytes=50 * MB)

    return read


def sbom(data: bytes | str, name: str = "bom.json") -> SbomDocument:
    raw = data.encode() if isinstance(data, str) else data
    return read_sbom(raw, name, max_bytes=10 * MB)


def names(document: SbomDocument) -> list[str]:
    return [component.product for component in document.components]


# --- every real sample --------------------------------------------------------------------------------


@pytest.mark.shared_data
@pytest.mark.parametrize("path", REAL_FILES, ids=[path.name for path in REAL_FILES])
def test_every_real_sbom_parses_or_raises_input_error(path: Path, shared_data: Path) -> None:
    try:
        document = read_sbom(path.read_bytes(), path.name, max_bytes=50 * MB)
    except (InputError, InputErrors) as error:
        assert path.name in str(error)
        return
    assert document.format in ("cyclonedx-json", "cyclonedx-xml", "spdx-json", "spdx-tag")
    assert all(isinstance(component, ComponentRecord) for component in document.components)
    assert len({component.key for component in document.components}) == len(document.components)


def test_the_real_samples_are_all_collected(shared_data: Path) -> None:
    assert len(REAL_FILES) >= 72  # 50 CycloneDX and 22 SPDX files when this test was written


# --- chosen real samples, exact -----------------------------------------------------------------------


@pytest.mark.shared_data
def test_cyclonedx_nested_component_is_listed_after_its_parent(scan: Callable[[str], SbomDocument]) -> None:
    document = scan("cyclonedx/dd__nested-component-log4j.json")
    assert (document.format, document.spec_version) == ("cyclonedx-json", "1.4")
    assert document.name == "./configuration/.m2/repository/org/apache/logging/log4j/log4j-core/2.13.2"
    assert document.components == [
        ComponentRecord(
            line=1,
            purl="pkg:oci/testcontainer?repository_url=testregistry.test",
            part="a",
            product="testcontainer:test",
        ),
        ComponentRecord(
            line=2,
            purl="pkg:maven/org.apache.logging.log4j/log4j-core@2.13.2",
            part="a",
            vendor="org.apache.logging.log4j",
            product="log4j-core",
            version="2.13.2",
        ),
    ]


@pytest.mark.shared_data
def test_cyclonedx_xml_skips_metadata_and_pedigree_and_converts_cpe22(scan: Callable[[str], SbomDocument]) -> None:
    document = scan("cyclonedx/cdxspec__valid-bom-1.6.xml")
    assert (document.format, document.spec_version, document.name) == ("cyclonedx-xml", "1.6", "Acme Application")
    assert names(document) == ["tomcat-catalina", "mylibrary", "myframework"]
    library = document.components[1]
    assert library.cpe == "cpe:2.3:a:example:myapplication:1.0.0:*:*:*:*:*:*:*"
    assert library.vendor == "example"  # from the CPE, not the supplier
    assert document.components[0].vendor == "com.acme"  # group


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("relative", "count", "name"),
    [
        ("cyclonedx/dd__grype.xml", 307, "defectdojo/defectdojo-django:1.13.1"),
        ("cyclonedx/dd__cyclonedx_bom.xml", 73, ""),
        ("cyclonedx/cdxex__laravel-7.12.0.bom.1.4.json", 62, "cyclonedx-php-composer-demo"),
        ("cyclonedx/cdxex__laravel-7.12.0.bom.1.4.xml", 62, "cyclonedx-php-composer-demo"),
        ("cyclonedx/cdxex__juice-shop-v11.1.2.bom.json", 840, "juice-shop"),
        ("cyclonedx/trivy__fluentd-multiple-lockfiles.cdx.json.golden.json", 161, None),
        ("cyclonedx/cdxex__VEX-cisa-case2-vex.json", 0, "ABC"),
        ("spdx/spdxtools__invalid-trivy-fluentd.spdx.json", 514, None),
        ("spdx/spdxtools__SPDXJSONExample-UTF-16.spdx.json", 4, "SPDX-Tools-v2.0"),
    ],
)
def test_real_sample_component_counts(
    scan: Callable[[str], SbomDocument], relative: str, count: int, name: str | None
) -> None:
    document = scan(relative)
    assert len(document.components) == count
    if name is not None:
        assert document.name == name


@pytest.mark.shared_data
def test_cyclonedx_json_and_xml_of_one_project_agree(scan: Callable[[str], SbomDocument]) -> None:
    from_json = scan("cyclonedx/cdxex__cern-lhc-vdm-editor.bom.json")
    from_xml = scan("cyclonedx/cdxex__cern-lhc-vdm-editor.bom.xml")
    assert sorted(c.purl for c in from_json.components) == sorted(c.purl for c in from_xml.components)
    assert len(from_json.components) == 43


@pytest.mark.shared_data
def test_spdx_tag_value_packages_with_file_lines(scan: Callable[[str], SbomDocument]) -> None:
    document = scan("spdx/spdxtools__SPDXTagExample-v2.3.spdx")
    assert (document.format, document.spec_version, document.name) == ("spdx-tag", "2.3", "SPDX-Tools-v2.0")
    assert names(document) == ["glibc", "Apache Commons Lang", "Jena", "Saxon"]
    assert [component.line for component in document.components] == [71, 170, 180, 189]
    glibc, _, jena, _ = document.components
    assert glibc.cpe == "cpe:2.3:a:pivotal_software:spring_framework:4.1.0:*:*:*:*:*:*:*"
    assert glibc.vendor == "pivotal_software"
    assert jena.purl == "pkg:maven/org.apache.jena/apache-jena@3.12.0"


@pytest.mark.shared_data
def test_spdx_json_and_tag_value_of_one_document_agree(scan: Callable[[str], SbomDocument]) -> None:
    from_json = scan("spdx/spdxtools__SPDXJSONExample-v2.3.spdx.json")
    from_tag = scan("spdx/spdxtools__SPDXTagExample-v2.3.spdx")
    strip_lines = [(c.cpe, c.purl, c.part, c.vendor, c.product, c.version) for c in from_json.components]
    assert strip_lines == [(c.cpe, c.purl, c.part, c.vendor, c.product, c.version) for c in from_tag.components]


@pytest.mark.shared_data
def test_spdx_security_refs_give_cpe_and_purl(scan: Callable[[str], SbomDocument]) -> None:
    document = scan("spdx/dd__spdx_one_vuln.spdx")
    assert document.components[0] == ComponentRecord(
        line=10,
        cpe="cpe:2.3:a:alpine-baselayout:alpine-baselayout:3.1.2-r0:*:*:*:*:*:*:*",
        purl="pkg:apk/alpine/alpine-baselayout@3.1.2-r0?arch=x86_64&distro=alpine-3.10.9",
        part="a",
        vendor="alpine-baselayout",
        product="alpine-baselayout",
        version="3.1.2-r0",
    )


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("relative", "message"),
    [
        ("spdx/dd__spdx_3_unsupported.json", "is SPDX 3 (JSON-LD), which ISMP does not read yet"),
        ("cyclonedx/cdxspec__invalid-bomformat-1.6.json", '"bomFormat" is "AnotherFormat"; expected "CycloneDX"'),
        ("cyclonedx/cdxspec__invalid-empty-component-1.5.json", "component 1: a component needs a cpe, a purl"),
    ],
)
def test_real_invalid_samples_are_refused_clearly(
    scan: Callable[[str], SbomDocument], relative: str, message: str
) -> None:
    with pytest.raises((InputError, InputErrors)) as caught:
        scan(relative)
    assert message in str(caught.value)
    assert Path(relative).name in str(caught.value)


# --- hostile and edge-case fixtures -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["billion-laughs.cdx.xml", "xxe-external-entity.cdx.xml"])
def test_xml_bomb_and_xxe_are_refused(inventory: Path, name: str) -> None:
    with pytest.raises(InputError) as caught:
        sbom((inventory / name).read_bytes(), name)
    message = str(caught.value)
    assert message.startswith(name)
    assert "XML bombs" in message and "(XXE)" in message
    assert "root:" not in message  # /etc/passwd was never read


def test_entity_without_dtd_wrapper_is_refused() -> None:
    data = '<?xml version="1.0"?><!DOCTYPE bom SYSTEM "http://attacker.example/x.dtd"><bom/>'
    with pytest.raises(InputError, match="DOCTYPE"):
        sbom(data, "remote-dtd.xml")


def test_leading_comment_before_xml_declaration_is_tolerated(inventory: Path) -> None:
    document = sbom((inventory / "leading-comment.cdx.xml").read_bytes(), "leading-comment.cdx.xml")
    assert (document.spec_version, document.name) == ("1.3", "reception-web")
    assert document.components == [
        ComponentRecord(
            line=1,
            cpe="cpe:2.3:o:canonical:ubuntu_linux:22.04:*:*:*:lts:*:*:*",
            part="o",
            vendor="canonical",
            product="ubuntu",
            version="22.04",
        ),
        ComponentRecord(
            line=2,
            purl="pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
            part="a",
            vendor="org.apache.logging.log4j",
            product="log4j-core",
            version="2.14.1",
        ),
        ComponentRecord(
            line=3,
            purl="pkg:maven/org.apache.logging.log4j/log4j-api@2.14.1",
            part="a",
            vendor="org.apache.logging.log4j",
            product="log4j-api",
            version="2.14.1",
        ),
        ComponentRecord(line=4, part="h", vendor="Example Networks", product="edge-router", version="7"),
    ]


def test_not_well_formed_xml_names_the_line() -> None:
    with pytest.raises(InputError, match="is not well-formed XML") as caught:
        sbom('<bom xmlns="http://cyclonedx.org/schema/bom/1.4">\n<components>\n</bom>', "broken.xml")
    assert caught.value.location.line == 3


def test_xml_that_is_not_cyclonedx_is_refused() -> None:
    with pytest.raises(InputError, match="is XML but not a CycloneDX BOM"):
        sbom('<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>', "doc.spdx.rdf.xml")


def test_truncated_json_says_so(inventory: Path) -> None:
    with pytest.raises(InputError) as caught:
        sbom((inventory / "truncated.cdx.json").read_bytes(), "truncated.cdx.json")
    assert "is not valid JSON" in str(caught.value)
    assert "looks truncated" in str(caught.value)
    assert caught.value.location.line == 24


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("", "is empty"),
        ("  \n", "is empty"),
        ("null", "neither CycloneDX"),
        ("[]", "neither CycloneDX"),
        ('{"name": "not an sbom"}', "neither CycloneDX"),
        ('{"bomFormat": "CycloneDX", "components": {"a": 1}}', '"components" must be a list'),
        ('["bomFormat"]', "neither CycloneDX"),
        ('{"spdxVersion": "SPDX-1.2"}', "is not an SPDX 2 document"),
    ],
)
def test_json_that_is_not_an_sbom_is_refused_clearly(data: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        sbom(data, "upload.json")
    assert message in str(caught.value)
    assert str(caught.value).startswith("upload.json")


def test_deeply_nested_json_is_an_input_error() -> None:
    data = '{"bomFormat": "CycloneDX", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(InputError, match="too deeply"):
        sbom(data)


def test_nested_json_components_are_numbered_parent_first() -> None:
    component: dict[str, object] = {"name": "leaf", "version": "1"}
    for depth in range(200):
        component = {"name": f"level{depth}", "version": "1", "components": [component]}
    data = json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [component, {"name": "last"}]})
    document = sbom(data)
    assert len(document.components) == 202
    assert [c.product for c in document.components[:2]] == ["level199", "level198"]
    assert [c.product for c in document.components[-2:]] == ["leaf", "last"]


def test_deeply_nested_xml_components_are_walked_without_recursion() -> None:
    depth = 5000  # far deeper than Python's recursion limit
    opening = '<component type="library"><name>c</name><version>{}</version><components>'
    body = "".join(opening.format(level) for level in range(depth)) + "</components></component>" * depth
    data = f'<bom xmlns="http://cyclonedx.org/schema/bom/1.4"><components>{body}</components></bom>'
    document = sbom(data, "deep.xml")
    assert len(document.components) == depth
    assert document.components[-1].version == str(depth - 1)


def test_bad_cpe_and_purl_in_cyclonedx_are_collected_with_record_numbers(inventory: Path) -> None:
    with pytest.raises(InputErrors) as caught:
        sbom((inventory / "bad-cpe.cdx.json").read_bytes(), "bad-cpe.cdx.json")
    errors = caught.value.errors
    assert [(e.location.line, e.location.field) for e in errors] == [(2, "cpe"), (3, "purl")]
    assert errors[0].reason.startswith('component 2 (openssl@3.0.8): "cpe:2.3:a:openssl:openssl" has 5 of 13')
    assert errors[1].reason.startswith("component 3 (curl@8.0.1): ")


def test_bad_purl_in_spdx_is_reported_and_supplier_becomes_vendor(inventory: Path) -> None:
    with pytest.raises(InputErrors) as caught:
        sbom((inventory / "bad-purl.spdx.json").read_bytes(), "bad-purl.spdx.json")
    assert [(e.location.line, e.location.field) for e in caught.value.errors] == [(2, "purl")]
    assert caught.value.errors[0].reason.startswith("component 2 (busybox@1.36.0): ")
    fixed = (inventory / "bad-purl.spdx.json").read_text().replace("pkg:/busybox", "pkg:generic/busybox")
    document = sbom(fixed, "fixed.spdx.json")
    assert document.components[0].vendor == "zlib project"
    assert document.components[0].purl == "pkg:deb/debian/zlib1g@1.2.13"


def test_component_that_is_not_an_object_or_has_an_object_name_is_reported() -> None:
    data = {"bomFormat": "CycloneDX", "components": ["zlib", {"name": {"en": "x"}}, {"name": "ok"}]}
    with pytest.raises(InputErrors) as caught:
        sbom(json.dumps(data))
    assert [e.reason for e in caught.value.errors] == [
        "component 1: must be a JSON object, not a string",
        "component 2: name must be text, not an object",
    ]
    assert caught.value.errors[1].location.field == "name"


def test_errors_are_capped_at_1000_and_counted() -> None:
    components = [{"name": f"c{i}", "cpe": "cpe:2.3:a"} for i in range(1200)]
    with pytest.raises(InputErrors) as caught:
        sbom(json.dumps({"bomFormat": "CycloneDX", "components": components}))
    assert (len(caught.value.errors), caught.value.total) == (1000, 1200)


def test_duplicate_components_are_merged_filling_empty_fields() -> None:
    data = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "components": [
            {"type": "library", "name": "lodash", "purl": "pkg:npm/lodash@4.17.21"},
            {"type": "library", "name": "lodash", "version": "4.17.21", "purl": "pkg:npm/lodash@4.17.21"},
            {"type": "library", "name": "left-pad", "version": "1.3.0"},
            {"type": "library", "name": "left-pad", "version": "1.3.0", "publisher": "azer"},
        ],
    }
    document = sbom(json.dumps(data))
    assert document.components == [
        ComponentRecord(line=1, purl="pkg:npm/lodash@4.17.21", part="a", product="lodash", version="4.17.21"),
        ComponentRecord(line=3, part="a", product="left-pad", version="1.3.0"),
        ComponentRecord(line=4, part="a", vendor="azer", product="left-pad", version="1.3.0"),
    ]


@pytest.mark.parametrize(
    ("kind", "part"),
    [("operating-system", "o"), ("firmware", "o"), ("device", "h"), ("library", "a"), ("container", "a"), ("", "a")],
)
def test_cyclonedx_type_gives_the_part(kind: str, part: str) -> None:
    data = {"bomFormat": "CycloneDX", "components": [{"type": kind, "name": "x"}]}
    assert sbom(json.dumps(data)).components[0].part == part


def test_spdx_tag_value_text_blocks_and_unclosed_text() -> None:
    good = (
        "SPDXVersion: SPDX-2.3\nDocumentName: doc\n\nPackageName: zlib\nPackageVersion: 1.3\n"
        "PackageComment: <text>first\nPackageName: not a new package\n</text>\n"
        "PackageSupplier: Organization: Zlib Org\nPrimaryPackagePurpose: OPERATING-SYSTEM\n"
        "FileName: ./a.c\nPackageVersion: 9.9\n"
    )
    document = sbom(good, "doc.spdx")
    assert document.components == [ComponentRecord(line=4, part="o", vendor="Zlib Org", product="zlib", version="1.3")]
    with pytest.raises(InputError, match="<text> opened on line 2 is never closed"):
        sbom("SPDXVersion: SPDX-2.3\nPackageComment: <text>open\nmore\n", "bad.spdx")


def test_spdx_tag_value_without_version_is_refused() -> None:
    with pytest.raises(InputError, match="no SPDXVersion line"):
        sbom("DocumentName: x\nPackageName: y\n", "x.spdx")


def test_too_large_sbom_is_refused_before_parsing() -> None:
    with pytest.raises(InputError, match="over the 100 bytes limit"):
        read_sbom(b"{" + b" " * 200 + b"}", "big.json", max_bytes=100)


def test_ledger_given_to_read_sbom_is_refused() -> None:
    with pytest.raises(InputError, match=r"is a ledger \(csv\), not an SBOM"):
        sbom("system,cpe\nbilling,\n", "inventory.csv")


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(
        [
            b"",
            b'{"bomFormat": "CycloneDX", "components": [',
            b'{"spdxVersion": "SPDX-2.3", "packages": [{"name": ',
            b"SPDXVersion: SPDX-2.3\nPackageName: x\n",
            b'<bom xmlns="http://cyclonedx.org/schema/bom/1.4"><components><component>',
        ]
    ),
    st.binary(max_size=200),
    st.sampled_from(["bom.json", "bom.xml", "doc.spdx", "upload"]),
)
def test_arbitrary_bytes_give_a_document_or_input_errors(prefix: bytes, body: bytes, name: str) -> None:
    try:
        document = read_sbom(prefix + body, name, max_bytes=MB)
    except (InputError, InputErrors) as error:
        assert name in str(error)
        return
    assert isinstance(document, SbomDocument)


# --- registry -----------------------------------------------------------------------------------------


def test_builtin_formats_are_registered() -> None:
    assert formats() == ["csv", "cyclonedx-json", "cyclonedx-xml", "spdx-json", "spdx-tag", "xlsx"]


def test_registering_a_taken_name_is_refused() -> None:
    def reader(data: bytes, filename: str, *, max_bytes: int) -> list[LedgerRow]:
        return []

    with pytest.raises(ValueError, match='inventory format "csv" is already registered by ismp.engines'):
        register("csv")(reader)


def test_a_new_format_can_be_registered_and_read(monkeypatch: pytest.MonkeyPatch) -> None:
    registry.formats()  # load the built-in readers before copying the table
    monkeypatch.setattr(registry._registry, "_entries", dict(registry._registry._entries))

    @register("tsv")
    def read_tsv(data: bytes, filename: str, *, max_bytes: int) -> list[LedgerRow]:
        return [LedgerRow(line=2, system={"system": data.decode().split("\n")[1]})]

    assert "tsv" in formats()
    assert read_inventory_file(b"system\nbilling\n", "x.tsv", fmt="tsv", max_bytes=100) == [
        LedgerRow(line=2, system={"system": "billing"})
    ]


@pytest.mark.parametrize(
    ("filename", "head", "expected"),
    [
        ("inventory.CSV", b"", "csv"),
        ("inventory.xlsx", b"", "xlsx"),
        ("bom.spdx.json", b"{}", "spdx-json"),
        ("bom.cdx.json", b"{}", "cyclonedx-json"),
        ("bom.xml", b"", "cyclonedx-xml"),
        ("doc.spdx", b"", "spdx-tag"),
        ("bom.json", b'{"$schema": "x", "bomFormat": "CycloneDX"}', "cyclonedx-json"),
        ("sbom.json", b'{"SPDXID": "SPDXRef-DOCUMENT", "spdxVersion": "SPDX-2.3"}', "spdx-json"),
        ("sbom.json", '{"spdxVersion": "SPDX-2.2"}'.encode("utf-16"), "spdx-json"),
        ("upload", b"PK\x03\x04rest", "xlsx"),
        ("upload", b'\n<bom xmlns="http://cyclonedx.org/schema/bom/1.5">', "cyclonedx-xml"),
        ("upload", b"# comment\nSPDXVersion: SPDX-2.3\n", "spdx-tag"),
        ("upload", "システム名,用途\n".encode("cp932"), "csv"),
    ],
)
def test_detect_format_by_extension_then_content(filename: str, head: bytes, expected: str) -> None:
    assert detect_format(filename, head) == expected


@pytest.mark.parametrize(
    ("filename", "head", "message"),
    [
        ("notes.txt", b"hello", "cannot tell the format"),
        ("data.json", b'{"a": 1}', "neither CycloneDX"),
    ],
)
def test_detect_format_refuses_what_it_does_not_know(filename: str, head: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message) as caught:
        detect_format(filename, head)
    assert caught.value.location.file == filename


def test_read_inventory_file_dispatches_to_ledger_and_sbom() -> None:
    rows = read_inventory_file(b"system\nbilling\n", "inventory.csv", fmt=None, max_bytes=MB)
    assert rows == [LedgerRow(line=2, system={"system": "billing"})]
    document = read_inventory_file(b'{"bomFormat": "CycloneDX"}', "bom.json", fmt=None, max_bytes=MB)
    assert isinstance(document, SbomDocument) and document.components == []


def test_read_inventory_file_refuses_an_unknown_format_and_an_oversized_file() -> None:
    with pytest.raises(InputError, match='unknown inventory format "pdf"'):
        read_inventory_file(b"x", "x.pdf", fmt="pdf", max_bytes=MB)
    with pytest.raises(InputError, match="over the 10 bytes limit"):
        read_inventory_file(b"x" * 11, "x.csv", fmt="csv", max_bytes=10)
