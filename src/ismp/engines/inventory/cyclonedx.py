"""CycloneDX SBOMs, JSON and XML, specification versions 1.0 to 1.7.

Components are ``components`` and their nested ``components``, in document order; ``metadata.component``
(what the SBOM describes) is not one of them, but its name is the document's name. Pedigree ancestors,
descendants and variants are history, not installed software, and are skipped.

XML is parsed with defusedxml and any DTD is refused, which stops entity-expansion bombs and external
entities (XXE). Comments or whitespace before ``<?xml …?>`` (as some tools write a licence header) are
skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import fromstring

from ismp.engines.inventory.records import SbomDocument
from ismp.engines.inventory.registry import check_size, register
from ismp.engines.inventory.sbom import FieldProblem, FoundComponent, build_document, load_json, text_of
from ismp.errors import InputError

# CycloneDX component type → CPE part. Firmware is "o" as in the NVD (e.g. cpe:2.3:o:vendor:x_firmware).
PART_BY_TYPE = {"operating-system": "o", "firmware": "o", "device": "h", "hardware": "h"}
_NAMESPACE = re.compile(r"\{http://cyclonedx\.org/schema/bom/(1\.\d+)\}bom")
_LEADING_COMMENTS = re.compile(rb"^(?:\xef\xbb\xbf)?(?:\s|<!--.*?-->)*(?=<\?xml)", re.DOTALL)


# --- JSON ---------------------------------------------------------------------------------------------


@register("cyclonedx-json")
def read_cyclonedx_json(data: bytes, filename: str, *, max_bytes: int) -> SbomDocument:
    """A CycloneDX JSON document (``"bomFormat": "CycloneDX"``)."""
    check_size(len(data), filename, max_bytes)
    document = load_json(data, filename)
    if not isinstance(document, dict):
        raise InputError(f"is JSON but not a CycloneDX BOM: the top level is {_json_kind(document)}", file=filename)
    if document.get("bomFormat") != "CycloneDX":
        raise InputError(
            f'is not a CycloneDX BOM: "bomFormat" is {_json_repr(document.get("bomFormat"))}; expected "CycloneDX"',
            file=filename,
        )
    components = document.get("components", [])
    if not isinstance(components, list):
        raise InputError('"components" must be a list', file=filename, field="components")
    metadata = document.get("metadata")
    subject = metadata.get("component") if isinstance(metadata, dict) else None
    name = _safe_text(subject.get("name")) if isinstance(subject, dict) else ""
    return build_document(
        fmt="cyclonedx-json",
        spec_version=_safe_text(document.get("specVersion")),
        name=name,
        found=(_from_json(number, item) for number, item in _walk_json(components)),
        filename=filename,
    )


def _walk_json(components: list[object]) -> Iterator[tuple[int, object]]:
    """Number components depth-first, a parent before its nested components, without recursion."""
    stack: list[Iterator[object]] = [iter(components)]
    number = 0
    while stack:
        item = next(stack[-1], _END)
        if item is _END:
            stack.pop()
            continue
        number += 1
        yield number, item
        nested = item.get("components") if isinstance(item, dict) else None
        if isinstance(nested, list):
            stack.append(iter(nested))


_END = object()


def _from_json(number: int, item: object) -> FoundComponent:
    if not isinstance(item, dict):
        return FoundComponent(number, problem=f"must be a JSON object, not {_json_kind(item)}")
    try:
        supplier = item.get("supplier")
        return _found(
            number,
            kind=text_of(item.get("type"), "type"),
            name=text_of(item.get("name"), "name"),
            version=text_of(item.get("version"), "version"),
            cpe=text_of(item.get("cpe"), "cpe"),
            purl=text_of(item.get("purl"), "purl"),
            vendors=(
                text_of(item.get("group"), "group"),
                text_of(item.get("publisher"), "publisher"),
                text_of(supplier.get("name"), "supplier.name") if isinstance(supplier, dict) else "",
            ),
        )
    except FieldProblem as problem:
        return FoundComponent(number, problem=str(problem), problem_field=problem.field)


def _found(
    number: int, *, kind: str, name: str, version: str, cpe: str, purl: str, vendors: tuple[str, ...]
) -> FoundComponent:
    return FoundComponent(
        number,
        name=name,
        version=version,
        cpe=cpe,
        purl=purl,
        part=PART_BY_TYPE.get(kind.lower(), "a"),
        vendor=next((vendor for vendor in vendors if vendor), ""),
    )


def _safe_text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _json_kind(value: object) -> str:
    return {type(None): "null", bool: "true/false", dict: "an object", list: "a list", str: "a string"}.get(
        type(value), "a number"
    )


def _json_repr(value: object) -> str:
    return f'"{value}"' if isinstance(value, str) else _json_kind(value)


# --- XML ----------------------------------------------------------------------------------------------


@register("cyclonedx-xml")
def read_cyclonedx_xml(data: bytes, filename: str, *, max_bytes: int) -> SbomDocument:
    """A CycloneDX XML document (``<bom xmlns="http://cyclonedx.org/schema/bom/1.x">``)."""
    check_size(len(data), filename, max_bytes)
    root = parse_xml(data, filename)
    match = _NAMESPACE.fullmatch(root.tag)
    if match is None:
        raise InputError(
            f"is XML but not a CycloneDX BOM: the root element is {root.tag}; "
            'expected <bom xmlns="http://cyclonedx.org/schema/bom/1.6"> (versions 1.0 to 1.7)',
            file=filename,
        )
    ns = "{" + root.tag[1:].split("}", 1)[0] + "}"
    subject = root.find(f"{ns}metadata/{ns}component")
    return build_document(
        fmt="cyclonedx-xml",
        spec_version=match.group(1),
        name=_xml_text(subject, f"{ns}name"),
        found=(_from_xml(number, element, ns) for number, element in _walk_xml(root, ns)),
        filename=filename,
    )


def parse_xml(data: bytes, filename: str) -> Element:
    """Parse untrusted XML: no DTD, no entities, no external references; clear errors for each."""
    body = _LEADING_COMMENTS.sub(b"", data, count=1)
    try:
        return fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DTDForbidden as exc:
        raise InputError(
            "contains a document type declaration (<!DOCTYPE>), which is refused: DTDs carry XML bombs "
            "(entity expansion such as billion laughs) and external-entity (XXE) attacks; "
            "export the SBOM again without a DOCTYPE",
            file=filename,
        ) from exc
    except EntitiesForbidden as exc:
        raise InputError(
            f"declares the XML entity {exc.name!r}, which is refused (XML bomb / XXE protection)", file=filename
        ) from exc
    except ExternalReferenceForbidden as exc:
        raise InputError(
            f"refers to an external resource {exc.sysid!r}, which is refused (XXE protection)", file=filename
        ) from exc
    except ParseError as exc:
        line = exc.position[0] if exc.position else None
        raise InputError(f"is not well-formed XML: {exc}", file=filename, line=line) from exc


def _walk_xml(root: Element, ns: str) -> Iterator[tuple[int, Element]]:
    """Number ``components/component`` elements depth-first, without recursion (pedigree is skipped)."""
    top = root.find(f"{ns}components")
    stack: list[Iterator[Element]] = [iter(top.findall(f"{ns}component") if top is not None else [])]
    number = 0
    while stack:
        element = next(stack[-1], None)
        if element is None:
            stack.pop()
            continue
        number += 1
        yield number, element
        nested = element.find(f"{ns}components")
        if nested is not None:
            stack.append(iter(nested.findall(f"{ns}component")))


def _from_xml(number: int, element: Element, ns: str) -> FoundComponent:
    return _found(
        number,
        kind=element.get("type", ""),
        name=_xml_text(element, f"{ns}name"),
        version=_xml_text(element, f"{ns}version"),
        cpe=_xml_text(element, f"{ns}cpe"),
        purl=_xml_text(element, f"{ns}purl"),
        vendors=(
            _xml_text(element, f"{ns}group"),
            _xml_text(element, f"{ns}publisher"),
            _xml_text(element, f"{ns}supplier/{ns}name"),
        ),
    )


def _xml_text(element: Element | None, path: str) -> str:
    if element is None:
        return ""
    return (element.findtext(path) or "").strip()
