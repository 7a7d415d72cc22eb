"""VEX writers: CycloneDX 1.6 (the system's SBOM with vulnerabilities) and OpenVEX 0.2.0, checked against
the specifications' structure (schema excerpts below, enumerations copied from the published schemas)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import jsonschema
import pytest

from ismp.engines.inventory.component import make_component
from ismp.engines.inventory.sbom_writer import write_cyclonedx_json
from ismp.engines.vex import VexStatement, write_cyclonedx_vex, write_openvex

WHEN = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone(timedelta(hours=9)))
EARLIER = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
HOSTILE = '=HYPERLINK("http://evil.invalid")\n</script><b>"\\\u0000'

STRUTS = make_component(line=None, file="", cpe="cpe:2.3:a:apache:struts:2.3.5:*:*:*:*:*:*:*")
REQUESTS = make_component(line=None, file="", purl="pkg:pypi/requests@2.0.0")
TOOL = make_component(line=None, file="", part="a", vendor="社内", product="台帳ツール", version="1.0")
COMPONENTS = [STRUTS, REQUESTS, TOOL]
STATEMENTS = [
    VexStatement("CVE-2017-5638", STRUTS.key, "affected", EARLIER, WHEN, detail="2.3.5 is within 2.3.5–2.3.31"),
    VexStatement(
        "CVE-2018-18074",
        REQUESTS.key,
        "not_affected",
        EARLIER,
        WHEN,
        justification="vulnerable_code_not_in_execute_path",
        detail=HOSTILE,
        aliases=("GHSA-x84v-xcm2-53pg",),
    ),
    VexStatement("CVE-2099-0001", TOOL.key, "under_investigation", EARLIER, WHEN, detail="version not comparable"),
    VexStatement("CVE-2099-0002", TOOL.key, "fixed", EARLIER, WHEN, detail="no longer matched"),
]

# --- CycloneDX 1.6: the parts of bom-1.6.schema.json a VEX uses, with its enumerations -----------------
_REF = {"type": "string", "minLength": 1}
CYCLONEDX_VEX_SCHEMA = {
    "type": "object",
    "required": ["bomFormat", "specVersion"],
    "properties": {
        "bomFormat": {"const": "CycloneDX"},
        "specVersion": {"const": "1.6"},
        "serialNumber": {
            "type": "string",
            "pattern": "^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
        },
        "version": {"type": "integer", "minimum": 1},
        "components": {"type": "array", "items": {"type": "object", "required": ["type", "name"]}},
        "vulnerabilities": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "bom-ref": _REF,
                    "id": {"type": "string"},
                    "source": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "name": {"type": "string"},
                            "url": {"type": "string", "format": "iri-reference"},
                        },
                    },
                    "references": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["id", "source"],
                            "additionalProperties": False,
                            "properties": {"id": {"type": "string"}, "source": {"type": "object"}},
                        },
                    },
                    "analysis": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "state": {
                                "enum": [
                                    "resolved",
                                    "resolved_with_pedigree",
                                    "exploitable",
                                    "in_triage",
                                    "false_positive",
                                    "not_affected",
                                ]
                            },
                            "justification": {
                                "enum": [
                                    "code_not_present",
                                    "code_not_reachable",
                                    "requires_configuration",
                                    "requires_dependency",
                                    "requires_environment",
                                    "protected_by_compiler",
                                    "protected_at_runtime",
                                    "protected_at_perimeter",
                                    "protected_by_mitigating_control",
                                ]
                            },
                            "response": {"type": "array"},
                            "detail": {"type": "string"},
                            "firstIssued": {"type": "string", "format": "date-time"},
                            "lastUpdated": {"type": "string", "format": "date-time"},
                        },
                    },
                    "affects": {
                        "type": "array",
                        "uniqueItems": True,
                        "items": {
                            "type": "object",
                            "required": ["ref"],
                            "additionalProperties": False,
                            "properties": {"ref": _REF, "versions": {"type": "array"}},
                        },
                    },
                    "properties": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["name"],
                            "properties": {"name": {"type": "string"}, "value": {"type": "string"}},
                        },
                    },
                },
            },
        },
    },
}

# --- OpenVEX 0.2.0 (openvex/spec OPENVEX-SPEC.md, v0.2.0) ---------------------------------------------
OPENVEX_SCHEMA = {
    "type": "object",
    "required": ["@context", "@id", "author", "timestamp", "version", "statements"],
    "properties": {
        "@context": {"const": "https://openvex.dev/ns/v0.2.0"},
        "@id": {"type": "string", "minLength": 1},
        "author": {"type": "string", "minLength": 1},
        "timestamp": {"type": "string", "format": "date-time"},
        "version": {"type": "integer", "minimum": 1},
        "statements": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["vulnerability", "status", "products"],
                "properties": {
                    "vulnerability": {"type": "object", "required": ["name"]},
                    "status": {"enum": ["not_affected", "affected", "fixed", "under_investigation"]},
                    "justification": {
                        "enum": [
                            "component_not_present",
                            "vulnerable_code_not_present",
                            "vulnerable_code_not_in_execute_path",
                            "vulnerable_code_cannot_be_controlled_by_adversary",
                            "inline_mitigations_already_exist",
                        ]
                    },
                    "products": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"type": "object", "required": ["@id"]},
                    },
                },
                "allOf": [
                    {
                        "if": {"properties": {"status": {"const": "not_affected"}}},
                        "then": {"anyOf": [{"required": ["justification"]}, {"required": ["impact_statement"]}]},
                    },
                    {
                        "if": {"properties": {"status": {"const": "affected"}}},
                        "then": {"required": ["action_statement"]},
                    },
                ],
            },
        },
    },
}


def validate(document: dict, schema: dict) -> None:
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(document)


def cyclonedx() -> dict:
    return json.loads(write_cyclonedx_vex("基幹システム", COMPONENTS, STATEMENTS, timestamp=WHEN))


def openvex() -> dict:
    return json.loads(write_openvex("基幹システム", COMPONENTS, STATEMENTS, timestamp=WHEN, author="CSIRT"))


def test_cyclonedx_vex_is_structurally_valid() -> None:
    validate(cyclonedx(), CYCLONEDX_VEX_SCHEMA)


def test_cyclonedx_vex_carries_the_sbom_and_refs_resolve_to_its_components() -> None:
    bom = cyclonedx()
    sbom = json.loads(write_cyclonedx_json("基幹システム", COMPONENTS, timestamp=WHEN))
    assert bom["components"] == sbom["components"] and bom["metadata"] == sbom["metadata"]
    assert bom["serialNumber"] != sbom["serialNumber"]
    refs = {c["bom-ref"] for c in bom["components"]} | {"system"}
    vulnerability_refs = [v["bom-ref"] for v in bom["vulnerabilities"]]
    assert len(set(vulnerability_refs)) == len(vulnerability_refs) and not refs & set(vulnerability_refs)
    assert all(a["ref"] in refs for v in bom["vulnerabilities"] for a in v["affects"])


def test_cyclonedx_states_and_justifications_are_mapped() -> None:
    by_id = {v["id"]: v for v in cyclonedx()["vulnerabilities"]}
    assert [by_id[i]["analysis"]["state"] for i in sorted(by_id)] == [
        "exploitable",
        "not_affected",
        "in_triage",
        "resolved",
    ]
    decided = by_id["CVE-2018-18074"]
    assert decided["analysis"]["justification"] == "code_not_reachable"
    assert decided["analysis"]["detail"] == HOSTILE  # kept verbatim; JSON escaping makes it inert
    assert decided["properties"] == [{"name": "ismp:justification", "value": "vulnerable_code_not_in_execute_path"}]
    assert decided["affects"] == [{"ref": "pkg:pypi/requests@2.0.0"}]
    assert decided["analysis"]["firstIssued"] == "2024-01-02T03:04:05Z"
    assert decided["analysis"]["lastUpdated"] == "2024-05-05T22:08:09Z"
    assert by_id["CVE-2017-5638"]["source"]["url"] == "https://nvd.nist.gov/vuln/detail/CVE-2017-5638"


def test_openvex_is_structurally_valid_and_names_products_by_purl_or_cpe() -> None:
    document = openvex()
    validate(document, OPENVEX_SCHEMA)
    assert document["author"] == "CSIRT" and document["@id"].startswith("urn:uuid:")
    products = {s["vulnerability"]["name"]: s["products"][0] for s in document["statements"]}
    assert products["CVE-2017-5638"] == {"@id": STRUTS.cpe, "identifiers": {"cpe23": STRUTS.cpe}}
    assert products["CVE-2018-18074"]["@id"] == "pkg:pypi/requests@2.0.0"
    assert products["CVE-2099-0001"]["@id"] == f"urn:ismp:component:{TOOL.key}"


def test_openvex_statement_fields_follow_the_status() -> None:
    statements = {s["vulnerability"]["name"]: s for s in openvex()["statements"]}
    decided = statements["CVE-2018-18074"]
    assert decided["justification"] == "vulnerable_code_not_in_execute_path" and decided["impact_statement"] == HOSTILE
    assert decided["vulnerability"]["aliases"] == ["GHSA-x84v-xcm2-53pg"]
    assert "action_statement" in statements["CVE-2017-5638"]
    assert statements["CVE-2099-0001"]["status_notes"] == "version not comparable"


@pytest.mark.parametrize("writer", [write_cyclonedx_vex, write_openvex])
def test_same_input_gives_same_bytes_in_any_order(writer) -> None:
    first = writer("s", COMPONENTS, STATEMENTS, timestamp=WHEN)
    assert writer("s", list(reversed(COMPONENTS)), list(reversed(STATEMENTS)), timestamp=WHEN) == first


@pytest.mark.parametrize("writer", [write_cyclonedx_vex, write_openvex])
def test_an_empty_vex_is_still_a_document(writer) -> None:
    document = json.loads(writer("s", [], [], timestamp=WHEN))
    assert document.get("vulnerabilities", document.get("statements")) == []


def test_a_statement_about_a_component_the_system_lacks_is_refused() -> None:
    with pytest.raises(ValueError, match="components the system does not have"):
        write_openvex("s", [STRUTS], STATEMENTS, timestamp=WHEN)


def test_not_affected_without_justification_and_unknown_status_are_refused() -> None:
    with pytest.raises(ValueError, match="needs a justification"):
        VexStatement("CVE-1", STRUTS.key, "not_affected", EARLIER, WHEN)
    with pytest.raises(ValueError, match="VEX status"):
        VexStatement("CVE-1", STRUTS.key, "exploitable", EARLIER, WHEN)  # type: ignore[arg-type]


def test_openvex_shape_matches_real_vexctl_documents(shared_data: Path) -> None:
    """Our statements use only fields that the OpenVEX project's own samples also use (plus the
    spec's optional ones), and those samples pass the same schema excerpt."""
    sample = json.loads((shared_data / "scans" / "openvex" / "vexctl__sample-2vulns.openvex.json").read_text())
    validate(sample, OPENVEX_SCHEMA)
    seen = {key for s in sample["statements"] for key in s} | {"impact_statement", "action_statement", "status_notes"}
    assert {key for s in openvex()["statements"] for key in s} <= seen
