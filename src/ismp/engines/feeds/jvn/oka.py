"""The JSON "oka" feed: getVulnDetailInfo as MyJVN CSAF (``ft=jvncsaf``) or STIX (``ft=jvnstix``), and
getVulnOverviewList as the MyJVN feed 1.0; also a plain CSAF 2.0/2.1 document without ``$schema``.

The response is identified by its ``$schema`` (``…/schema/myjvn_vuldef_1.0.csaf.json?20250419``), or, when
that is absent, by its shape. The status block is checked first, so a MyJVN error response raises
JvnApiError whatever else it holds. JSON is loaded whole (XML is streamed).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace

from ismp.engines.feeds.base import CvssMetric, VulnRecord
from ismp.engines.feeds.jvn.common import (
    SOURCE,
    VULN_METHODS,
    JvnStatus,
    is_cve,
    lang_key,
    make_status,
    unique,
    unsupported,
)
from ismp.engines.feeds.jvn.csaf import Product, csaf_record, group, make_references, scores
from ismp.engines.feeds.jvn.jsonvalues import JsonObject, Where, kind_of
from ismp.errors import InputError

SCHEMAS = {
    "myjvn_vuldef_1.0.csaf.json": "csaf",
    "myjvn_vuldef_1.0.stix.json": "stix",
    "myjvn_feed_1.0.json": "feed",
}
KNOWN_FAMILIES = ("myjvn_vuldef", "myjvn_feed")
REFUSED_FAMILIES = {
    "jvnpid": "a MyJVN vendor or product list (getVendorList, getProductList)",
    "myjvn_statistics": "a MyJVN getStatistics response",
    "getalert": "a MyJVN getAlertList response",
}
CSAF_VERSIONS = ("2.0", "2.1")
_SCHEMA_FILE = re.compile(r"(?P<family>[a-z_]+?)_?(?P<version>\d+(?:\.\d+)*)(?:\.(?:csaf|stix))?\.json")


@dataclass(frozen=True, slots=True)
class JsonResult:
    format: str
    records: tuple[VulnRecord, ...]
    status: JvnStatus | None


def parse_json(data: bytes, filename: str) -> JsonResult:
    """Records of a whole JSON response; InputError for bad JSON, API errors and unsupported responses."""
    top = _load(data, filename)
    where = Where(filename)
    if not isinstance(top, dict):
        raise InputError(f"is JSON but not a MyJVN response: the top level is {kind_of(top)}", file=filename)
    status = _status(top, where)
    kind = _response_kind(top, status, where)
    if kind == "feed":
        feed = where.obj(top.get("feed"), "feed")
        lang = lang_key(where.text(feed.get("lang"), "feed.lang") or (status.lang if status else ""))
        entries = where.objs(feed.get("entry"), "feed.entry")
        records = tuple(feed_record(entry, lang, replace(where, number=n)) for n, (_, entry) in enumerate(entries, 1))
        return JsonResult("myjvn-feed-1.0", records, status)
    if kind == "stix":
        documents = [
            document
            for field, item in where.objs(top.get("objects"), "objects")
            if item.get("type") == "jvn-jp-sdo"
            for _, document in where.objs(item.get("VULDEF-Document"), f"{field}.VULDEF-Document")
        ]
        lang = status.lang if status else ""
        records = tuple(csaf_record(d, lang, replace(where, number=n)) for n, d in enumerate(documents, 1))
        return JsonResult("myjvn-stix-1.0", records, status)
    record = csaf_record(top, status.lang if status else "", replace(where, number=1))
    if "$schema" in top:
        return JsonResult("myjvn-csaf-1.0", (record,), status)
    return JsonResult(f"csaf-{where.obj(top.get('document'), 'document').get('csaf_version')}", (record,), status)


def _load(data: bytes, filename: str) -> object:
    try:
        value: object = json.loads(data)
    except json.JSONDecodeError as exc:
        truncated = exc.msg.startswith("Unterminated string") or exc.pos >= len(exc.doc.rstrip())
        hint = (
            "the file ends too early and looks truncated"
            if truncated
            else "the file is refused as published, not repaired; fetch it again or report it to JVN"
        )
        raise InputError(
            f"is not valid JSON ({exc.msg}: line {exc.lineno}, column {exc.colno}); {hint}",
            file=filename,
            line=exc.lineno,
        ) from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"is not UTF-8, UTF-16 or UTF-32 text ({exc.reason})", file=filename) from exc
    except RecursionError as exc:
        raise InputError("nests JSON arrays or objects too deeply to be a MyJVN response", file=filename) from exc
    return value


def _status(top: JsonObject, where: Where) -> JvnStatus | None:
    """The ``status`` member (oka), or ``feed["status:Status"]`` (the hnd feed's getAlertList JSON)."""
    feed = top.get("feed")
    block = top.get("status", feed.get("status:Status") if isinstance(feed, dict) else None)
    if block is None:
        return None
    return make_status(where.obj(block, "status"), where.filename)


def _response_kind(top: JsonObject, status: JvnStatus | None, where: Where) -> str:
    schema = where.text(top.get("$schema"), "$schema")
    method = status.method if status else ""
    if schema:
        name = schema.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        kind = SCHEMAS.get(name)
        match = _SCHEMA_FILE.fullmatch(name)
        family = match.group("family") if match else ""
        if kind is None and family in REFUSED_FAMILIES:
            raise unsupported(REFUSED_FAMILIES[family], where.filename)
        if kind is None and family in KNOWN_FAMILIES:
            raise InputError(
                f'uses the MyJVN schema "{name}", a version this reader does not know; supported: {", ".join(SCHEMAS)}',
                file=where.filename,
                field="$schema",
            )
        if kind is None:
            raise InputError(
                f'has "$schema": "{schema}", which is not a MyJVN schema this reader knows; '
                f"supported: {', '.join(SCHEMAS)}",
                file=where.filename,
                field="$schema",
            )
    elif isinstance(top.get("document"), dict):
        kind = "csaf"
    elif top.get("type") == "bundle":
        kind = "stix"
    elif isinstance(top.get("feed"), dict):
        kind = "feed"
    else:
        raise InputError(
            "is JSON but not a MyJVN response: it has no $schema, CSAF document, STIX bundle or feed",
            file=where.filename,
        )
    if method and method not in VULN_METHODS:
        raise unsupported(f"a MyJVN {method} response", where.filename)
    if kind == "csaf":
        version = where.text(where.obj(top.get("document"), "document").get("csaf_version"), "document.csaf_version")
        if version not in CSAF_VERSIONS:
            raise InputError(
                f'is CSAF version "{version}", which is not supported; supported: {", ".join(CSAF_VERSIONS)}',
                file=where.filename,
                field="document.csaf_version",
            )
    return kind


# --- MyJVN feed 1.0 (getVulnOverviewList) ---------------------------------------------------------------


def feed_record(entry: JsonObject, lang: str, where: Where) -> VulnRecord:
    """One feed entry: id, title, summary, references (CVE ids among them), products, metrics, CWEs."""
    vulinfo_id = where.text(entry.get("id"), "id")
    if not vulinfo_id:
        raise where.error("id", "is missing; every feed entry has one")
    where = replace(where, record=vulinfo_id)
    references = where.objs(entry.get("references"), "references")
    metrics: list[CvssMetric] = []
    severities: list[str] = []
    for field, metric in where.objs(entry.get("metrics"), "metrics"):
        scores(
            where.obj(metric.get("content"), f"{field}.content"), f"{field}.content", True, where, metrics, severities
        )
    products = []
    for field, item in where.objs(entry.get("products"), "products"):
        ids = where.obj(item.get("product_ids"), f"{field}.product_ids")
        purls = [
            where.text(ref.get("value"), f"{f}.value")
            for f, ref in where.objs(ids.get("id_refs"), f"{field}.product_ids.id_refs")
            if ref.get("nameType") == "purl"
        ]
        products.append(
            Product(
                vendor=where.text(item.get("vname"), f"{field}.vname"),
                product=where.text(item.get("pname"), f"{field}.pname"),
                version=where.text(item.get("version"), f"{field}.version"),
                product_id=where.text(item.get("product_id"), f"{field}.product_id"),
                cpe=where.text(ids.get("cpe"), f"{field}.product_ids.cpe"),
                purl=next(iter(purls), ""),
            )
        )
    title = where.text(entry.get("title"), "title")
    summary = where.text(entry.get("summary"), "summary")
    return VulnRecord(
        source=SOURCE,
        id=vulinfo_id,
        aliases=unique(s for f, r in references if is_cve(s := where.text(r.get("summary"), f"{f}.summary"))),
        published=where.date(entry.get("created"), "created"),
        modified=where.date(entry.get("modified"), "modified"),
        titles={lang: title} if title else {},
        descriptions={lang: summary} if summary else {},
        cvss=unique(metrics),
        severity="" if metrics else next(iter(severities), ""),
        cwes=unique(where.text(c.get("id"), f"{f}.id") for f, c in where.objs(entry.get("cwes"), "cwes")),
        references=make_references(references, where),
        affected=group(products, {}),
    )
