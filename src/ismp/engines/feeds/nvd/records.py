"""One NVD CVE item → one VulnRecord: JSON 1.1 ``CVE_Items[]`` entries and API 2.0 ``cve`` objects.

This is the hot path of an NVD import (about 110,000 CVEs and 1.25 million cpe_match entries for the
2002–2017 feeds), so the happy path reads keys directly and checks leaf types with ``type(x) is str``.
Whatever is wrong is raised as :class:`BadValue` with the path of the field at fault
(``configurations.nodes[3].children[0].cpe_match[2].cpe23Uri``, built on the way out by :func:`_each`),
which the parser turns into an InputError naming the file, the record number and the CVE id.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from ismp.engines.feeds.base import ConfigNode, Configuration, CpeMatch, CvssMetric, Reference, VulnRecord

SOURCE = "nvd"
NVD_SCORER = "nvd@nist.gov"  # who scored the metrics of a 1.1 feed (it names no source)
MAX_NODE_DEPTH = 16  # NVD nests at most 2 levels; anything deeper is hostile
REJECT_PREFIX = "** REJECT **"  # JSON 1.1: how a rejected CVE's description starts

_CVE_ID = re.compile(r"CVE-\d{4}-\d{4,}")
_OPERATORS = {"OR": "OR", "AND": "AND"}
_METRIC_VERSIONS = {"cvssMetricV40": "4.0", "cvssMetricV31": "3.1", "cvssMetricV30": "3.0", "cvssMetricV2": "2.0"}
_SEVERITIES = {s: s for s in ("NONE", "LOW", "MEDIUM", "HIGH", "CRITICAL")}
_UTC = dt.UTC
_T = TypeVar("_T")


class BadValue(Exception):
    """A value of one record that cannot be read: where (a dotted field path) and what is wrong."""

    def __init__(self, field: str, message: str, cve_id: str = "") -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.cve_id = cve_id

    def within(self, prefix: str) -> BadValue:
        return BadValue(f"{prefix}.{self.field}" if self.field else prefix, self.message, self.cve_id)


_CONVERSION_ERRORS = (BadValue, KeyError, TypeError, AttributeError, ValueError)


# ------------------------------------------------------------------------------------------ JSON 1.1


def from_feed_item(item: object) -> VulnRecord:
    """A JSON 1.1 ``CVE_Items[]`` entry (``{"cve": …, "configurations": …, "impact": …, …}``)."""
    if type(item) is not dict:
        raise BadValue("", f"must be a JSON object, not {kind(item)}")
    cve = _object(item.get("cve"), "cve", required=True)
    cve_id = _cve_id(_dig(cve, ("CVE_data_meta", "ID"), "cve"), "cve.CVE_data_meta.ID")
    try:
        descriptions = _descriptions(
            _dig(cve, ("description", "description_data"), "cve"), "cve.description.description_data"
        )
        return VulnRecord(
            source=SOURCE,
            id=cve_id,
            published=_when(item.get("publishedDate"), "publishedDate"),
            modified=_when(item.get("lastModifiedDate"), "lastModifiedDate"),
            rejected=descriptions.get("en", "").startswith(REJECT_PREFIX),
            descriptions=descriptions,
            cvss=_cvss_v11(item.get("impact")),
            cwes=_cwes(_dig(cve, ("problemtype", "problemtype_data"), "cve"), "cve.problemtype.problemtype_data"),
            references=_references(_dig(cve, ("references", "reference_data"), "cve"), "cve.references.reference_data"),
            configurations=_configurations_v11(item.get("configurations")),
        )
    except BadValue as bad:
        bad.cve_id = cve_id
        raise


def _cvss_v11(impact: object) -> tuple[CvssMetric, ...]:
    if not impact:
        return ()
    impact = _object(impact, "impact")
    metrics: list[CvssMetric] = []
    v3 = impact.get("baseMetricV3")
    if v3 is not None:
        data = _object(_object(v3, "impact.baseMetricV3").get("cvssV3"), "impact.baseMetricV3.cvssV3", required=True)
        metrics.append(_metric(data, "3.1", data.get("baseSeverity"), NVD_SCORER, True, "impact.baseMetricV3.cvssV3"))
    v2 = impact.get("baseMetricV2")
    if v2 is not None:
        v2 = _object(v2, "impact.baseMetricV2")
        data = _object(v2.get("cvssV2"), "impact.baseMetricV2.cvssV2", required=True)
        metrics.append(_metric(data, "2.0", v2.get("severity"), NVD_SCORER, True, "impact.baseMetricV2.cvssV2"))
    return tuple(metrics)


def _configurations_v11(configurations: object) -> tuple[Configuration, ...]:
    """1.1 has one implicit OR over its nodes; each node has cpe_match and children."""
    if not configurations:
        return ()
    nodes = _each(_object(configurations, "configurations").get("nodes"), _node_v11, "configurations.nodes")
    return (Configuration("OR", False, nodes),) if nodes else ()


def _node_v11(node: Any, depth: int = 0) -> ConfigNode:
    operator, negate = _operator_negate(node)
    cpe_match = node.get("cpe_match")
    try:
        matches = tuple([_match_v11(match) for match in cpe_match])
    except _CONVERSION_ERRORS:
        matches = _each(cpe_match, _match_v11, "cpe_match")  # names the entry at fault (or reads null as [])
    children = node.get("children")
    if not children:
        return ConfigNode(operator, negate, matches, ())
    if depth >= MAX_NODE_DEPTH:
        raise BadValue("children", f"nest more than {MAX_NODE_DEPTH} levels deep")
    return ConfigNode(operator, negate, matches, _each(children, lambda child: _node_v11(child, depth + 1), "children"))


def _match_v11(match: Any) -> CpeMatch:
    return _match(match, "cpe23Uri", "cpe_name")


def _match_v20(match: Any) -> CpeMatch:
    return _match(match, "criteria", "matchCriteriaId")


def _match(match: Any, criteria_key: str, extra_key: str) -> CpeMatch:
    """One cpe_match (1.1: cpe23Uri, cpe_name) or cpeMatch (2.0: criteria, matchCriteriaId) entry."""
    criteria = match[criteria_key]
    vulnerable = match["vulnerable"]
    if len(match) == 2 or (len(match) == 3 and extra_key in match):  # no version range: the common case
        if type(criteria) is not str or type(vulnerable) is not bool:
            raise _match_problem(match, criteria_key)
        return CpeMatch(criteria, vulnerable)
    start_including = match.get("versionStartIncluding", "")
    start_excluding = match.get("versionStartExcluding", "")
    end_including = match.get("versionEndIncluding", "")
    end_excluding = match.get("versionEndExcluding", "")
    if not (
        type(criteria) is str
        and type(vulnerable) is bool
        and type(start_including) is str
        and type(start_excluding) is str
        and type(end_including) is str
        and type(end_excluding) is str
    ):
        raise _match_problem(match, criteria_key)
    return CpeMatch(criteria, vulnerable, start_including, start_excluding, end_including, end_excluding)


# ------------------------------------------------------------------------------------------ API 2.0


def from_api_cve(cve: object, prefix: str = "cve") -> VulnRecord:
    """An API 2.0 ``cve`` object (``vulnerabilities[].cve``, or a whole single-record file)."""
    here = f"{prefix}." if prefix else ""
    cve = _object(cve, prefix or "record", required=True)
    cve_id = _cve_id(cve.get("id"), f"{here}id")
    try:
        descriptions = _descriptions(cve.get("descriptions"), f"{here}descriptions")
        return VulnRecord(
            source=SOURCE,
            id=cve_id,
            published=_when(cve.get("published"), f"{here}published"),
            modified=_when(cve.get("lastModified"), f"{here}lastModified"),
            rejected=cve.get("vulnStatus") == "Rejected",
            descriptions=descriptions,
            cvss=_cvss_v20(cve.get("metrics"), f"{here}metrics"),
            cwes=_cwes(cve.get("weaknesses"), f"{here}weaknesses"),
            references=_references(cve.get("references"), f"{here}references"),
            configurations=_each(cve.get("configurations"), _configuration_v20, f"{here}configurations"),
        )
    except BadValue as bad:
        bad.cve_id = cve_id
        raise


def from_api_item(item: object) -> VulnRecord:
    """An API 2.0 ``vulnerabilities[]`` entry (``{"cve": {…}}``)."""
    if type(item) is not dict:
        raise BadValue("", f"must be a JSON object, not {kind(item)}")
    return from_api_cve(item.get("cve"))


def _cvss_v20(metrics: object, field: str) -> tuple[CvssMetric, ...]:
    if not metrics:
        return ()
    found: list[CvssMetric] = []
    for key, entries in _object(metrics, field).items():
        version = _METRIC_VERSIONS.get(key)
        if version is not None:  # later CVSS versions are skipped until base.py knows them
            found.extend(_each(entries, partial(_metric_v20, version=version), f"{field}.{key}"))
    return tuple(found)


def _metric_v20(entry: Any, version: str) -> CvssMetric:
    data = _object(entry.get("cvssData"), "cvssData", required=True)
    severity = data.get("baseSeverity") or entry.get("baseSeverity")  # 2.0 keeps it beside cvssData
    source = entry.get("source", "")
    if type(source) is not str:
        raise BadValue("source", f"must be a string, not {kind(source)}")
    return _metric(data, version, severity, source, entry.get("type") == "Primary", "cvssData")


def _configuration_v20(configuration: Any) -> Configuration:
    operator, negate = _operator_negate(configuration)
    return Configuration(operator, negate, _each(configuration.get("nodes"), _node_v20, "nodes"))


def _node_v20(node: Any) -> ConfigNode:
    operator, negate = _operator_negate(node)
    cpe_match = node.get("cpeMatch")
    try:
        matches = tuple([_match_v20(match) for match in cpe_match])
    except _CONVERSION_ERRORS:
        matches = _each(cpe_match, _match_v20, "cpeMatch")  # names the entry at fault (or reads null as [])
    return ConfigNode(operator, negate, matches, ())


def _operator_negate(value: Any) -> tuple[str, bool]:
    raw = value.get("operator", "OR")
    operator = _OPERATORS.get(raw) if type(raw) is str else None
    if operator is None:
        raise BadValue("operator", f'must be "AND" or "OR", not {show(raw)}')
    negate = value.get("negate", False)
    if type(negate) is not bool:
        raise BadValue("negate", f"must be true or false, not {show(negate)}")
    return operator, negate


# ------------------------------------------------------------------------------------ shared pieces


def _metric(
    data: dict[str, Any], default_version: str, severity: object, source: str, primary: bool, field: str
) -> CvssMetric:
    version = data.get("version", default_version)
    vector = data.get("vectorString")
    score = data.get("baseScore")
    if type(version) is not str:
        raise BadValue(f"{field}.version", f"must be a string, not {kind(version)}")
    if type(vector) is not str:
        raise BadValue(
            f"{field}.vectorString", "is missing" if vector is None else f"must be a string, not {kind(vector)}"
        )
    if type(score) is not float and type(score) is not int:
        raise BadValue(f"{field}.baseScore", "is missing" if score is None else f"must be a number, not {kind(score)}")
    if severity is None:
        severity = ""
    elif type(severity) is str:
        severity = _SEVERITIES.get(severity) or severity.upper()
    else:
        raise BadValue(f"{field}.baseSeverity", f"must be a string, not {kind(severity)}")
    return CvssMetric(version, vector, float(score), severity, source, primary)


def _descriptions(entries: object, field: str) -> dict[str, str]:
    """``[{"lang": "en", "value": …}, …]`` → {"en": …}; the first text of each language wins."""
    texts: dict[str, str] = {}
    for index, entry in enumerate(_list(entries, field)):
        lang, value = _lang_value(entry, f"{field}[{index}]")
        texts.setdefault(lang, value)
    return texts


def _cwes(weaknesses: object, field: str) -> tuple[str, ...]:
    """CWE ids from 1.1 ``problemtype_data`` / 2.0 ``weaknesses`` (both ``[{"description": [{lang, value}]}]``),
    without NVD-CWE-Other / NVD-CWE-noinfo, each once, in order."""
    found: dict[str, None] = {}
    for index, weakness in enumerate(_list(weaknesses, field)):
        here = f"{field}[{index}]"
        for inner, entry in enumerate(_list(_object(weakness, here).get("description"), f"{here}.description")):
            value = _lang_value(entry, f"{here}.description[{inner}]")[1]
            if value.startswith("CWE-"):
                found[value] = None
    return tuple(found)


def _references(entries: object, field: str) -> tuple[Reference, ...]:
    """``[{"url": …, "tags": […]}, …]``; a URL listed twice (as NVD does) is kept once, with all its tags."""
    tags_by_url: dict[str, tuple[str, ...]] = {}
    for index, entry in enumerate(_list(entries, field)):
        if type(entry) is not dict:
            raise BadValue(f"{field}[{index}]", f"must be an object, not {kind(entry)}")
        url = entry.get("url")
        if type(url) is not str:
            raise BadValue(
                f"{field}[{index}].url", "is missing" if url is None else f"must be a string, not {kind(url)}"
            )
        tags = entry.get("tags") or ()
        if tags:
            if type(tags) is not list:
                raise BadValue(f"{field}[{index}].tags", f"must be a list of strings, not {kind(tags)}")
            for tag in tags:
                if type(tag) is not str:
                    raise BadValue(f"{field}[{index}].tags", f"must be a list of strings, not hold {kind(tag)}")
            tags = tuple(tags)
        known = tags_by_url.get(url)
        if known is None:
            tags_by_url[url] = tags
        elif tags and tags != known:
            tags_by_url[url] = known + tuple(tag for tag in tags if tag not in known)
    return tuple([Reference(url, tags) for url, tags in tags_by_url.items()])


def _lang_value(entry: object, field: str) -> tuple[str, str]:
    if type(entry) is not dict:
        raise BadValue(field, f"must be an object, not {kind(entry)}")
    lang = entry.get("lang", "en")
    value = entry.get("value")
    if type(lang) is not str:
        raise BadValue(f"{field}.lang", f"must be a string, not {kind(lang)}")
    if type(value) is not str:
        raise BadValue(f"{field}.value", "is missing" if value is None else f"must be a string, not {kind(value)}")
    return lang, value


def _cve_id(value: object, field: str) -> str:
    if type(value) is not str:
        raise BadValue(field, "the CVE id is missing" if value is None else f"must be a string, not {kind(value)}")
    if _CVE_ID.fullmatch(value) is None:
        raise BadValue(field, f"{show(value)} is not a CVE id (expected CVE-YYYY-NNNN)")
    return value


def _when(value: object, field: str) -> dt.datetime | None:
    """NVD dates: 1.1 "2014-09-24T18:48Z"; 2.0 "2023-10-12T19:15:11.747" (UTC without a zone)."""
    if value is None:
        return None
    if type(value) is not str:
        raise BadValue(field, f"must be a date string, not {kind(value)}")
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise BadValue(field, f"{show(value)} is not an ISO 8601 date and time") from None
    return when.replace(tzinfo=_UTC) if when.tzinfo is None else when.astimezone(_UTC)


def _each(items: object, convert: Callable[[Any], _T], field: str) -> tuple[_T, ...]:
    """Convert every entry of a JSON list (absent or null → empty); on failure name the entry at fault.

    Each entry is converted once, so a failure deep in nested nodes costs no more than success."""
    if type(items) is not list:
        if items is None:
            return ()
        raise BadValue(field, f"must be a list, not {kind(items)}")
    converted: list[_T] = []
    try:
        for item in items:
            converted.append(convert(item))
    except _CONVERSION_ERRORS as exc:
        here = f"{field}[{len(converted)}]"
        item = items[len(converted)]
        if isinstance(exc, BadValue):
            raise exc.within(here) from None
        if type(item) is not dict:
            raise BadValue(here, f"must be an object, not {kind(item)}") from None
        if isinstance(exc, KeyError):
            raise BadValue(f"{here}.{exc.args[0]}", "is missing") from None
        raise BadValue(here, f"cannot be read ({exc})") from None
    return tuple(converted)


def _match_problem(match: dict[str, Any], criteria_key: str) -> BadValue:
    for key, expected in ((criteria_key, str), ("vulnerable", bool)):
        value = match[key]
        if type(value) is not expected:
            return BadValue(key, f"must be {'a string' if expected is str else 'true or false'}, not {kind(value)}")
    for key in ("versionStartIncluding", "versionStartExcluding", "versionEndIncluding", "versionEndExcluding"):
        value = match.get(key, "")
        if type(value) is not str:
            return BadValue(key, f"must be a string, not {kind(value)}")
    return BadValue("", "cannot be read")  # pragma: no cover


def _object(value: object, field: str, *, required: bool = False) -> dict[str, Any]:
    if type(value) is dict:
        return value
    if value is None and not required:
        return {}
    raise BadValue(field, "is missing" if value is None else f"must be an object, not {kind(value)}")


def _list(value: object, field: str) -> list[Any]:
    if type(value) is list:
        return value
    if value is None:
        return []
    raise BadValue(field, f"must be a list, not {kind(value)}")


def _dig(value: dict[str, Any], keys: tuple[str, ...], field: str) -> object:
    """``value[k1][k2]…``, None when a key is absent; BadValue when a step is not an object."""
    found: object = value
    for key in keys:
        if found is None:
            return None
        found = _object(found, field).get(key)
        field = f"{field}.{key}"
    return found


def kind(value: object) -> str:
    """A JSON value's kind in words, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return "a string" if isinstance(value, str) else type(value).__name__


def show(value: object) -> str:
    """A value quoted for a message (short)."""
    if isinstance(value, str):
        return f'"{value[:60]}…"' if len(value) > 60 else f'"{value}"'
    return kind(value)
