"""CSAF documents as MyJVN sends them (getVulnDetailInfo ``ft=jvncsaf``, and each ``VULDEF-Document`` of
``ft=jvnstix``: CSAF 2.1 with MyJVN's ``jvn_extension``), and plain CSAF 2.0 documents.

Products come from the product tree (vendor → product_name → product_version branches), filtered by the
vulnerabilities' ``product_status`` and grouped by vendor and product name; their versions come from
``jvn_extension.affected`` (CVE JSON 5 style ranges) when it names the product.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from ismp.engines.feeds.base import AffectedProduct, AffectedVersion, CvssMetric, Reference, VulnRecord
from ismp.engines.feeds.jvn.common import SOURCE, cpe_forms, cvss_metric, is_cve, lang_key, unique
from ismp.engines.feeds.jvn.jsonvalues import JsonObject, Where

_AFFECTED_KEYS = ("known_affected", "first_affected", "last_affected")


def csaf_record(doc: JsonObject, default_lang: str, where: Where) -> VulnRecord:
    """One CSAF document: tracking id, title and description, CVEs, scores, CWEs, references, products."""
    document = where.obj(doc.get("document"), "document")
    tracking = where.obj(document.get("tracking"), "document.tracking")
    vulinfo_id = where.text(tracking.get("id"), "document.tracking.id")
    if not vulinfo_id:
        raise where.error("document.tracking.id", "is missing; every CSAF document has one")
    where = replace(where, record=vulinfo_id)
    lang = lang_key(where.text(document.get("lang"), "document.lang") or default_lang)
    vulnerabilities = where.objs(doc.get("vulnerabilities"), "vulnerabilities")
    notes = where.objs(document.get("notes"), "document.notes") + [
        note for f, v in vulnerabilities for note in where.objs(v.get("notes"), f"{f}.notes")
    ]
    description = next(
        (where.text(n.get("text"), f"{f}.text") for f, n in notes if n.get("category") in ("description", "summary")),
        "",
    )
    metrics: list[CvssMetric] = []
    severities: list[str] = []
    cwes: list[str] = []
    references = [*where.objs(document.get("references"), "document.references")]
    for field, vulnerability in vulnerabilities:
        for f, metric in where.objs(vulnerability.get("metrics"), f"{field}.metrics"):  # CSAF 2.1
            content = where.obj(metric.get("content"), f"{f}.content")
            scores(content, f"{f}.content", content.get("type") != "Secondary", where, metrics, severities)
        for f, score in where.objs(vulnerability.get("scores"), f"{field}.scores"):  # CSAF 2.0
            scores(score, f, True, where, metrics, severities)
        cwes += [where.text(c.get("id"), f"{f}.id") for f, c in where.objs(vulnerability.get("cwes"), f"{field}.cwes")]
        cwes.append(where.text(where.obj(vulnerability.get("cwe"), f"{field}.cwe").get("id"), f"{field}.cwe.id"))
        references += where.objs(vulnerability.get("references"), f"{field}.references")
    title = where.text(document.get("title"), "document.title")
    return VulnRecord(
        source=SOURCE,
        id=vulinfo_id,
        aliases=unique(cve for f, v in vulnerabilities if is_cve(cve := where.text(v.get("cve"), f"{f}.cve"))),
        published=where.date(tracking.get("initial_release_date"), "document.tracking.initial_release_date"),
        modified=where.date(tracking.get("current_release_date"), "document.tracking.current_release_date"),
        titles={lang: title} if title else {},
        descriptions={lang: description} if description else {},
        cvss=unique(metrics),
        severity="" if metrics else next(iter(severities), ""),
        cwes=unique(cwes),
        references=make_references(references, where),
        affected=_csaf_affected(doc, vulnerabilities, where),
    )


def scores(
    content: JsonObject,
    field: str,
    primary: bool,
    where: Where,
    metrics: list[CvssMetric],
    severities: list[str],
) -> None:
    """Append the CVSS v2/v3/v4 entries of one metrics content (2.1) or scores entry (2.0)."""
    for key in ("cvss_v2", "cvss_v3", "cvss_v4"):
        cvss = where.obj(content.get(key), f"{field}.{key}")
        if not cvss:
            continue
        severity = where.text(cvss.get("baseSeverity"), f"{field}.{key}.baseSeverity")
        metric = cvss_metric(
            version=where.text(cvss.get("version"), f"{field}.{key}.version"),
            vector=where.text(cvss.get("vectorString"), f"{field}.{key}.vectorString"),
            score=cvss.get("baseScore"),
            severity=severity,
            primary=primary,
            place=where,
            field=f"{field}.{key}.baseScore",
        )
        if metric is not None:
            metrics.append(metric)
        elif severity:
            severities.insert(0, severity)  # the newest version's word first


@dataclass(frozen=True, slots=True)
class Product:
    """One product as a CSAF product tree or a MyJVN feed entry names it."""

    vendor: str
    product: str
    version: str
    product_id: str
    cpe: str
    purl: str


def _csaf_affected(
    doc: JsonObject, vulnerabilities: list[tuple[str, JsonObject]], where: Where
) -> tuple[AffectedProduct, ...]:
    """Products of the product tree that a vulnerability lists as affected (all of them when no
    vulnerability has a product_status), one per vendor and product name; versions from
    ``jvn_extension.affected`` when it names the product, else from product_version branches."""
    products = _product_tree(where.obj(doc.get("product_tree"), "product_tree"), where)
    statuses = [
        (f"{f}.product_status", where.obj(v.get("product_status"), f"{f}.product_status")) for f, v in vulnerabilities
    ]
    if any(status for _, status in statuses):
        affected_ids = {
            where.text(product_id, f"{field}.{key}")
            for field, status in statuses
            for key in _AFFECTED_KEYS
            for product_id in where.arr(status.get(key), f"{field}.{key}")
        }
        products = [p for p in products if p.product_id in affected_ids]
    extension = where.obj(doc.get("jvn_extension"), "jvn_extension")
    listed: dict[tuple[str, str], tuple[AffectedVersion, ...]] = {}
    for field, item in where.objs(extension.get("affected"), "jvn_extension.affected"):
        key = (where.text(item.get("vendor"), f"{field}.vendor"), where.text(item.get("product"), f"{field}.product"))
        listed[key] = tuple(_version(v, f, where) for f, v in where.objs(item.get("versions"), f"{field}.versions"))
    return group(products, listed)


def _version(value: JsonObject, field: str, where: Where) -> AffectedVersion:
    return AffectedVersion(
        version=where.text(value.get("version"), f"{field}.version"),
        status=where.text(value.get("status"), f"{field}.status") or "affected",
        version_type=where.text(value.get("versionType"), f"{field}.versionType"),
        less_than=where.text(value.get("lessThan"), f"{field}.lessThan"),
        less_than_or_equal=where.text(value.get("lessThanOrEqual"), f"{field}.lessThanOrEqual"),
    )


def _product_tree(tree: JsonObject, where: Where) -> list[Product]:
    """Leaf products in document order, each with the vendor, product name and version of its branches."""
    found: list[Product] = []
    for field, item in where.objs(tree.get("full_product_names"), "product_tree.full_product_names"):
        found.append(_tree_product(item, field, "", where.text(item.get("name"), f"{field}.name"), "", where))
    stack: list[tuple[Iterator[tuple[str, JsonObject]], tuple[str, str, str]]] = [
        (iter(where.objs(tree.get("branches"), "product_tree.branches")), ("", "", ""))
    ]
    while stack:
        branches, context = stack[-1]
        entry = next(branches, None)
        if entry is None:
            stack.pop()
            continue
        field, branch = entry
        category = where.text(branch.get("category"), f"{field}.category")
        name = where.text(branch.get("name"), f"{field}.name")
        vendor, product, version = context
        if category == "vendor":
            vendor = name
        elif category == "product_name":
            product = name
        elif category in ("product_version", "product_version_range"):
            version = name
        if "product" in branch:
            item = where.obj(branch.get("product"), f"{field}.product")
            found.append(_tree_product(item, f"{field}.product", vendor, product, version, where))
        if "branches" in branch:
            nested = where.objs(branch.get("branches"), f"{field}.branches")
            stack.append((iter(nested), (vendor, product, version)))
    return found


def _tree_product(item: JsonObject, field: str, vendor: str, product: str, version: str, where: Where) -> Product:
    helper = where.obj(item.get("product_identification_helper"), f"{field}.product_identification_helper")
    purls = [where.text(p, f"{field}.purls") for p in where.arr(helper.get("purls"), f"{field}.purls")]
    purls.append(where.text(helper.get("purl"), f"{field}.purl"))
    return Product(
        vendor=vendor,
        product=product or where.text(item.get("name"), f"{field}.name"),
        version=version,
        product_id=where.text(item.get("product_id"), f"{field}.product_id"),
        cpe=where.text(helper.get("cpe"), f"{field}.cpe"),
        purl=next((p for p in purls if p), ""),
    )


def group(
    products: list[Product], listed: dict[tuple[str, str], tuple[AffectedVersion, ...]]
) -> tuple[AffectedProduct, ...]:
    """One AffectedProduct per vendor and product name, in first-seen order: its CPEs (as given, plus the
    2.3 form), the purl of its unversioned entry, and versions from ``listed`` (vendor, product → versions)
    or else from the versioned entries. Listed products absent from ``products`` are added at the end."""
    groups: dict[tuple[str, str], list[Product]] = {}
    for product in products:
        groups.setdefault((product.vendor, product.product), []).append(product)
    affected: list[AffectedProduct] = []
    for (vendor, name), members in groups.items():
        versions = listed.pop((vendor, name), None)
        if versions is None:
            versions = tuple(AffectedVersion(version=v) for v in unique(m.version for m in members))
        affected.append(
            AffectedProduct(
                vendor=vendor,
                product=name,
                purl=next((m.purl for m in members if m.purl and not m.version), ""),
                cpes=unique(form for m in members for form in cpe_forms(m.cpe)),
                versions=versions,
            )
        )
    affected += [AffectedProduct(vendor=v, product=p, versions=versions) for (v, p), versions in listed.items()]
    return tuple(affected)


def make_references(items: list[tuple[str, JsonObject]], where: Where) -> tuple[Reference, ...]:
    """References by URL in first-seen order; tags carry JVN's reference type (advisory, vendor…)."""
    seen: dict[str, Reference] = {}
    for field, item in items:
        url = where.text(item.get("url"), f"{field}.url")
        kind = where.text(item.get("type"), f"{field}.type")
        if url and url not in seen:
            seen[url] = Reference(url=url, tags=(kind,) if kind else ())
    return tuple(seen.values())
