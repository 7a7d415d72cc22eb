"""The XML "hnd" feed: VULDEF 3.2 (getVulnDetailInfo) and JVNRSS 3.2 (getVulnOverviewList), streamed.

Records are built as each ``<Vulinfo>`` or ``<item>`` closes and then dropped from the tree, so a JVNDB
data feed of any size is read in constant memory. The status block comes last; a MyJVN error response
(``retCd`` ≠ 0) raises :class:`~ismp.engines.feeds.jvn.common.JvnApiError` when it is reached.

Untrusted XML: any DTD is refused (billion laughs, XXE); a declared multi-byte encoding that expat cannot
read itself (Shift_JIS, EUC-JP, ISO-2022-JP) is decoded by Python first.
"""

from __future__ import annotations

import codecs
import datetime as dt
import io
import re
from collections.abc import Iterator
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import iterparse

from ismp.engines.feeds.base import AffectedProduct, AffectedVersion, CvssMetric, Reference, VulnRecord
from ismp.engines.feeds.jvn.common import (
    SOURCE,
    Joined,
    JvnStatus,
    Place,
    Readable,
    cpe_forms,
    cvss_metric,
    is_cve,
    lang_key,
    make_status,
    parse_datetime,
    unique,
    unsupported,
)
from ismp.errors import InputError

VULDEF = "{http://jvn.jp/vuldef/}"
RSS = "{http://purl.org/rss/1.0/}"
RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
SEC = "{http://jvn.jp/rss/mod_sec/3.0/}"
DC = "{http://purl.org/dc/elements/1.1/}"
DCTERMS = "{http://purl.org/dc/terms/}"
STATUS = "{http://jvndb.jvn.jp/myjvn/Status}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# Roots of MyJVN responses this feed refuses, with what they are.
OTHER_ROOTS = {
    "{http://jvndb.jvn.jp/myjvn/Results}Result": "a MyJVN getVendorList, getProductList or getStatistics response",
    "{http://www.w3.org/2005/Atom}feed": "a MyJVN getAlertList response (Atom)",
}
OTHER_CHILDREN = {
    "{http://jvndb.jvn.jp/myjvn/Results}VendorInfo": "a MyJVN getVendorList or getProductList response",
}
VULDEF_VERSIONS = ("3.1", "3.2")  # 3.1 and 3.2 differ only in annotations for the elements read here
MOD_SEC = re.compile(r"http://jvn\.jp/rss/mod_sec/([^/]*)/?")
# What VULDEF affectedstatus / mod_sec impact say, as CVE JSON 5 statuses.
AFFECTED_STATUS = {
    "vulnerable": "affected",
    "vulnerable_investigating": "affected",
    "notvulnerable": "unaffected",
    "notvulnerable_investigating": "unaffected",
    "not vulnerable": "unaffected",
    "unknown": "unknown",
}
_DECLARED_ENCODING = re.compile(rb"^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_DECLARATION_ENCODING = re.compile(r"^(\ufeff?\s*<\?xml[^>]*?encoding\s*=\s*[\"'])[A-Za-z0-9._-]+([\"'])")
_EXPAT_ENCODINGS = frozenset({"utf-8", "utf8", "utf-16", "utf16", "iso-8859-1", "latin-1", "latin1", "us-ascii"})
# Japanese labels as browsers read them (WHATWG Encoding): Shift_JIS is Microsoft's cp932 in practice.
_JAPANESE_CODECS = {"shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932", "x-sjis": "cp932", "ms_kanji": "cp932"}


class XmlReader:
    """Reads one XML response; iterate :meth:`records`, then read :attr:`format` and :attr:`status`."""

    def __init__(self, stream: Readable, filename: str) -> None:
        self.stream = stream
        self.filename = filename
        self.format = ""
        self.status: JvnStatus | None = None
        self.lang = "ja"

    def records(self) -> Iterator[VulnRecord]:
        try:
            yield from self._records()
        except DTDForbidden as exc:
            raise InputError(
                "contains a document type declaration (<!DOCTYPE>), which is refused: DTDs carry XML bombs "
                "(entity expansion such as billion laughs) and external-entity (XXE) attacks; "
                "MyJVN responses never have one",
                file=self.filename,
            ) from exc
        except EntitiesForbidden as exc:
            raise InputError(
                f"declares the XML entity {exc.name!r}, which is refused (XML bomb / XXE protection)",
                file=self.filename,
            ) from exc
        except ExternalReferenceForbidden as exc:
            raise InputError(
                f"refers to an external resource {exc.sysid!r}, which is refused (XXE protection)", file=self.filename
            ) from exc
        except ParseError as exc:
            line = exc.position[0] if exc.position else None
            message = str(exc)
            truncated = message.startswith(("no element found", "unclosed token", "partial character"))
            hint = (
                "the file ends too early and looks truncated"
                if truncated
                else "the file is refused as published, not repaired; fetch it again or report it to JVN"
            )
            raise InputError(f"is not well-formed XML ({message}); {hint}", file=self.filename, line=line) from exc

    def _records(self) -> Iterator[VulnRecord]:
        root: Element | None = None
        kind = ""
        depth = 0
        number = 0
        events = iterparse(
            _utf8_or_native(self.stream, self.filename),
            events=("start-ns", "start", "end"),
            forbid_dtd=True,
            forbid_entities=True,
            forbid_external=True,
        )
        for event, value in events:
            if event == "start-ns":
                self._check_namespace(value[1])
                continue
            element: Element = value
            if event == "start":
                depth += 1
                if root is None:
                    root, kind = element, self._root_kind(element)
                continue
            depth -= 1
            if depth != 1 or root is None:
                continue
            if element.tag == f"{STATUS}Status":
                self.status = self._status(element)
            elif kind == "vuldef" and element.tag == f"{VULDEF}Vulinfo":
                number += 1
                yield vuldef_record(element, lang=self.lang, number=number, filename=self.filename)
            elif kind == "rss" and element.tag == f"{RSS}item":
                number += 1
                yield rss_record(element, lang=self.lang, number=number, filename=self.filename)
            elif kind in ("other", "unknown"):
                raise self._refusal(root, kind, element)
            root.remove(element)  # keep memory flat on data feeds
        if root is None:
            raise InputError("contains no XML element", file=self.filename)
        if kind in ("other", "unknown"):
            raise self._refusal(root, kind, None)

    def _root_kind(self, root: Element) -> str:
        self.lang = lang_key(root.get(XML_LANG, ""))
        if root.tag == f"{VULDEF}VULDEF-Document":
            version = root.get("version", "")
            if version not in VULDEF_VERSIONS:
                raise InputError(
                    f'is VULDEF version "{version}", which is not supported; supported: {", ".join(VULDEF_VERSIONS)}',
                    file=self.filename,
                    field="VULDEF-Document/@version",
                )
            self.format = f"vuldef-{version}"
            return "vuldef"
        if root.tag == f"{RDF}RDF":
            self.format = "jvnrss-3.2"
            return "rss"
        return "other" if root.tag in OTHER_ROOTS else "unknown"

    def _check_namespace(self, uri: str) -> None:
        match = MOD_SEC.fullmatch(uri)
        if match and match.group(1) != "3.0":
            raise InputError(
                f'uses the JVN security module namespace "{uri}" (mod_sec {match.group(1)}); '
                "only mod_sec 3.0 (http://jvn.jp/rss/mod_sec/3.0/) is supported",
                file=self.filename,
            )

    def _status(self, element: Element) -> JvnStatus:
        version = element.get("version", "")
        if version and not version.startswith("3."):
            raise InputError(
                f'has a MyJVN status block of version "{version}"; only 3.x is supported',
                file=self.filename,
                field="status:Status/@version",
            )
        return make_status(dict(element.attrib), self.filename)

    def _refusal(self, root: Element, kind: str, child: Element | None) -> InputError:
        """Why a response of another MyJVN method is refused, named from its status or first element."""
        if self.status is not None and self.status.method:
            return unsupported(f"a MyJVN {self.status.method} response", self.filename)
        if child is not None and child.tag in OTHER_CHILDREN:
            return unsupported(OTHER_CHILDREN[child.tag], self.filename)
        if child is not None and child.tag.startswith("{http://jvndb.jvn.jp/myjvn/Statistics}"):
            return unsupported("a MyJVN getStatistics response", self.filename)
        if kind == "other":
            return unsupported(OTHER_ROOTS[root.tag], self.filename)
        return InputError(
            f"is XML but not a MyJVN response: the root element is {root.tag}; expected "
            '<VULDEF-Document xmlns="http://jvn.jp/vuldef/"> (getVulnDetailInfo) or <rdf:RDF> (getVulnOverviewList)',
            file=self.filename,
        )


# --- VULDEF (getVulnDetailInfo) --------------------------------------------------------------------------


def vuldef_record(item: Element, *, lang: str, number: int, filename: str) -> VulnRecord:
    """One ``<Vulinfo>``: id, title and overview, affected products, CVSS, related ids, CWEs, dates."""
    vulinfo_id = _text(item.find(f"{VULDEF}VulinfoID"))
    if not vulinfo_id:
        raise Place(filename, number).error("VulinfoID", "is missing; every Vulinfo has one")
    place = Place(filename, number, vulinfo_id)
    data = item.find(f"{VULDEF}VulinfoData")
    if data is None:
        data = Element(f"{VULDEF}VulinfoData")

    def date(tag: str) -> dt.datetime | None:
        return parse_datetime(_text(data.find(VULDEF + tag)), place, tag)

    related = data.findall(f"{VULDEF}Related/{VULDEF}RelatedItem")
    cwe_items = [i for i in related if i.get("type") == "cwe"]
    cwe_items += data.findall(f"{VULDEF}VulinfoDescription/{VULDEF}Cwe/{VULDEF}RelatedItem")
    metrics, severities = _vuldef_cvss(data, place)
    title = _text(data.find(f"{VULDEF}Title"))
    overview = _text(data.find(f"{VULDEF}VulinfoDescription/{VULDEF}Overview"))
    return VulnRecord(
        source=SOURCE,
        id=vulinfo_id,
        aliases=unique(v for i in related if is_cve(v := _text(i.find(f"{VULDEF}VulinfoID")))),
        published=date("DateFirstPublished") or date("DatePublic"),
        modified=date("DateLastUpdated"),
        titles={lang: title} if title else {},
        descriptions={lang: overview} if overview else {},
        cvss=metrics,
        severity="" if metrics else next(iter(severities), data.get("severity", "")),
        cwes=unique(_text(i.find(f"{VULDEF}VulinfoID")) for i in cwe_items),
        references=_references(
            (_text(i.find(f"{VULDEF}URL")), i.get("type", "")) for i in related if i.get("type") != "cwe"
        ),
        affected=tuple(_vuldef_affected(i) for i in data.findall(f"{VULDEF}Affected/{VULDEF}AffectedItem")),
    )


def _vuldef_cvss(data: Element, place: Place) -> tuple[tuple[CvssMetric, ...], list[str]]:
    """Scored CVSS entries, and the severity words of entries that have no score (newest version first)."""
    metrics: list[CvssMetric] = []
    severities: list[str] = []
    for cvss in data.findall(f"{VULDEF}Impact/{VULDEF}Cvss"):
        severity = next(
            (_text(s) for s in cvss.findall(f"{VULDEF}Severity") if s.get("type", "Base") == "Base"),
            "",
        )
        metric = cvss_metric(
            version=cvss.get("version", ""),
            vector=_text(cvss.find(f"{VULDEF}Vector")),
            score=_text(cvss.find(f"{VULDEF}Base")),
            severity=severity,
            primary=True,
            place=place,
            field="Impact/Cvss/Base",
        )
        if metric is not None:
            metrics.append(metric)
        elif severity:
            severities.insert(0, severity)
    return unique(metrics), severities


def _vuldef_affected(item: Element) -> AffectedProduct:
    status = AFFECTED_STATUS.get(item.get("affectedstatus", ""), "")
    versions = [_vuldef_version(v, status or "affected") for v in item.findall(f"{VULDEF}VersionNumber")]
    return AffectedProduct(
        vendor=_text(item.find(f"{VULDEF}Name")),
        product=_text(item.find(f"{VULDEF}ProductName")),
        cpes=unique(form for cpe in item.findall(f"{VULDEF}Cpe") for form in cpe_forms(_text(cpe))),
        default_status=status,
        versions=tuple(v for v in versions if v is not None),
    )


def _vuldef_version(element: Element, status: str) -> AffectedVersion | None:
    """A VersionNumber: JVN's free text as given (``7.7``, ``7.6.2より前のバージョン``), or a range when the
    element says so with operator lt/le or RangeBegin/RangeEnd."""
    begin = element.find(f"{VULDEF}RangeBegin")
    end = element.find(f"{VULDEF}RangeEnd")
    if begin is not None or end is not None:
        upper = _text(end)
        inclusive = end is None or end.get("operator", "le") != "lt"
        return AffectedVersion(
            version=_text(begin) or "0",
            status=status,
            less_than="" if inclusive else upper,
            less_than_or_equal=upper if inclusive else "",
        )
    text = _text(element)
    if not text:
        return None
    operator = element.get("operator", "")
    if operator == "lt":
        return AffectedVersion(version="0", status=status, less_than=text)
    if operator == "le":
        return AffectedVersion(version="0", status=status, less_than_or_equal=text)
    return AffectedVersion(version=text, status=status)


# --- JVNRSS (getVulnOverviewList) ------------------------------------------------------------------------


def rss_record(item: Element, *, lang: str, number: int, filename: str) -> VulnRecord:
    """One RSS ``<item>``: title, description, sec:identifier, sec:references, sec:cpe, sec:cvss, dates."""
    identifier = _text(item.find(f"{SEC}identifier"))
    if not identifier:
        place = Place(filename, number, item.get(f"{RDF}about", ""))
        raise place.error("sec:identifier", "is missing; every JVNRSS item has one")
    place = Place(filename, number, identifier)
    references = item.findall(f"{SEC}references")
    metrics: list[CvssMetric] = []
    severities: list[str] = []
    for cvss in item.findall(f"{SEC}cvss"):
        if cvss.get("type", "Base") != "Base":
            continue
        metric = cvss_metric(
            version=cvss.get("version", ""),
            vector=cvss.get("vector", ""),
            score=cvss.get("score"),
            severity=cvss.get("severity", ""),
            primary=True,
            place=place,
            field="sec:cvss/@score",
        )
        if metric is not None:
            metrics.append(metric)
        elif cvss.get("severity"):
            severities.insert(0, cvss.get("severity", ""))

    def date(tag: str) -> dt.datetime | None:
        prefix = "dcterms" if tag.startswith(DCTERMS) else "dc"
        return parse_datetime(_text(item.find(tag)), place, f"{prefix}:{tag.rsplit('}', 1)[-1]}")

    title = _text(item.find(f"{RSS}title"))
    description = _text(item.find(f"{RSS}description"))
    return VulnRecord(
        source=SOURCE,
        id=identifier,
        aliases=unique(r.get("id", "").strip() for r in references if is_cve(r.get("id", "").strip())),
        published=date(f"{DCTERMS}issued"),
        modified=date(f"{DCTERMS}modified") or date(f"{DC}date"),
        titles={lang: title} if title else {},
        descriptions={lang: description} if description else {},
        cvss=unique(metrics),
        severity="" if metrics else next(iter(severities), ""),
        cwes=unique(r.get("id", "").strip() for r in references if r.get("id", "").strip().startswith("CWE-")),
        references=_references((_text(r), "") for r in references if not r.get("id", "").strip().startswith("CWE-")),
        affected=tuple(
            AffectedProduct(
                vendor=cpe.get("vendor", "").strip(),
                product=cpe.get("product", "").strip(),
                cpes=cpe_forms(_text(cpe)),
                default_status=AFFECTED_STATUS.get(cpe.get("impact", ""), ""),
            )
            for cpe in item.findall(f"{SEC}cpe")
        ),
    )


# --- helpers ---------------------------------------------------------------------------------------------


def _text(element: Element | None) -> str:
    return "".join(element.itertext()).strip() if element is not None else ""


def _references(pairs: Iterator[tuple[str, str]]) -> tuple[Reference, ...]:
    """References by URL in first-seen order; tags carry JVN's reference type (advisory, vendor…)."""
    seen: dict[str, Reference] = {}
    for url, kind in pairs:
        if url and url not in seen:
            seen[url] = Reference(url=url, tags=(kind,) if kind else ())
    return tuple(seen.values())


def _utf8_or_native(stream: Readable, filename: str) -> Readable:
    """The stream as expat can read it: unchanged, unless it declares a multi-byte encoding expat lacks."""
    head = stream.read(1024)
    match = _DECLARED_ENCODING.match(head)
    declared = match.group(1).decode("ascii") if match else ""
    if not declared or declared.lower() in _EXPAT_ENCODINGS:
        return Joined(head, stream)
    try:
        codec = codecs.lookup(_JAPANESE_CODECS.get(declared.lower(), declared)).name
    except LookupError:
        raise InputError(
            f'declares the encoding "{declared}", which is not known; MyJVN sends UTF-8', file=filename, line=1
        ) from None
    data = head + stream.read()
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"is not valid {declared} text as its XML declaration says (byte 0x{data[exc.start]:02x})",
            file=filename,
            line=line,
        ) from exc
    # expat reads the UTF-8 text only if the declaration says so.
    return io.BytesIO(_DECLARATION_ENCODING.sub(r"\1UTF-8\2", text, count=1).encode("utf-8"))
