"""Write a system's components as an SBOM: CycloneDX 1.6 JSON or SPDX 2.3 JSON.

Both writers are deterministic: the same name, components and timestamp give the same bytes. Components
with the same key are merged as the readers merge them (:func:`~ismp.engines.inventory.sbom.merge_duplicates`)
and written sorted by key. The serial number / document namespace is a uuid5 of the name and the keys.

:func:`~ismp.engines.inventory.sbom.read_sbom` reads the output back to the same
(cpe, purl, part, vendor, product, version) set, for components normalised as
:func:`~ismp.engines.inventory.component.make_component` makes them, except where the formats cannot say it:

* a component without a CPE and without a part is read back with part ``a`` (CycloneDX ``type`` is
  required, and both readers treat an application, library or missing purpose as ``a``);
* with a CPE, the readers take part and vendor from the CPE, so a part or vendor given beside a CPE whose
  part or vendor is ANY is not kept.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from ismp.engines.inventory.records import ComponentRecord
from ismp.engines.inventory.sbom import merge_duplicates

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://ismp.invalid/sbom")
_CDX_TYPE = {"o": "operating-system", "h": "device"}
_SPDX_PURPOSE = {"o": "OPERATING-SYSTEM", "h": "DEVICE"}
_ROOT_REF = "system"  # cannot clash with a key: keys start with "cpe:", "pkg:", "a:", "o:", "h:" or ":"


def write_cyclonedx_json(
    name: str, components: Iterable[ComponentRecord], *, version: str = "", timestamp: datetime
) -> bytes:
    """A CycloneDX 1.6 JSON BOM describing the system ``name`` (``version``) and its components."""
    records = _prepared(components)
    subject: dict[str, object] = {"type": "application", "bom-ref": _ROOT_REF, "name": name}
    if version:
        subject["version"] = version
    bom: dict[str, object] = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": f"urn:uuid:{_uuid(name, records)}",
        "version": 1,
        "metadata": {
            "timestamp": _utc(timestamp),
            "tools": {"components": [{"type": "application", "name": "ISMP"}]},
            "component": subject,
        },
        "components": [_cyclonedx_component(record) for record in records],
    }
    return _dump(bom)


def _cyclonedx_component(record: ComponentRecord) -> dict[str, object]:
    kind = _CDX_TYPE.get(record.part, "library" if record.purl else "application")
    item: dict[str, object] = {"type": kind, "bom-ref": record.key}
    if record.vendor:
        item["publisher"] = record.vendor
    item["name"] = record.product  # required; "" only for a CPE whose product is ANY, which reads back as ""
    if record.version:
        item["version"] = record.version
    if record.cpe:
        item["cpe"] = record.cpe
    if record.purl:
        item["purl"] = record.purl
    return item


def write_spdx_json(name: str, components: Iterable[ComponentRecord], *, timestamp: datetime) -> bytes:
    """An SPDX 2.3 JSON document named ``name`` with one package per component.

    The SPDX readers count every package as a component, so there is no root package for the system:
    the document DESCRIBES each package directly.
    """
    records = _prepared(components)
    packages = [_spdx_package(number, record) for number, record in enumerate(records, start=1)]
    document: dict[str, object] = {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": name,
        "documentNamespace": f"https://ismp.invalid/spdx/{_uuid(name, records)}",
        "creationInfo": {"created": _utc(timestamp), "creators": ["Tool: ISMP"]},
        "packages": packages,
        "relationships": [
            {"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": p["SPDXID"]}
            for p in packages
        ],
    }
    return _dump(document)


def _spdx_package(number: int, record: ComponentRecord) -> dict[str, object]:
    package: dict[str, object] = {"SPDXID": f"SPDXRef-Package-{number}", "name": record.product}
    if record.version:
        package["versionInfo"] = record.version
    package["supplier"] = _supplier(record.vendor)
    package["downloadLocation"] = "NOASSERTION"
    package["filesAnalyzed"] = False
    package["primaryPackagePurpose"] = _SPDX_PURPOSE.get(record.part, "LIBRARY" if record.purl else "APPLICATION")
    refs = []
    if record.cpe:
        refs.append({"referenceCategory": "SECURITY", "referenceType": "cpe23Type", "referenceLocator": record.cpe})
    if record.purl:
        refs.append({"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": record.purl})
    if refs:
        package["externalRefs"] = refs
    return package


def _supplier(vendor: str) -> str:
    if not vendor:
        return "NOASSERTION"
    # A reader takes a final "(…)" as the contact e-mail; an empty one keeps a vendor such as "Acme (Japan)".
    return f"Organization: {vendor} ()" if re.search(r"\([^()]*\)$", vendor) else f"Organization: {vendor}"


def _prepared(components: Iterable[ComponentRecord]) -> list[ComponentRecord]:
    return sorted(merge_duplicates(components), key=lambda record: record.key)


def _uuid(name: str, records: list[ComponentRecord]) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, "\n".join([name, *(record.key for record in records)]))


def _utc(timestamp: datetime) -> str:
    if timestamp.tzinfo is None:
        raise ValueError("timestamp must be timezone-aware")
    return timestamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _dump(document: dict[str, object]) -> bytes:
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
