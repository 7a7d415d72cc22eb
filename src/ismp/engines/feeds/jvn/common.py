"""What the XML (hnd) and JSON (oka) readers share: the status block, errors, and value conversions.

Every MyJVN response ends with a status block (``<status:Status …/>`` or ``"status": {…}``) giving the
method, the paging counters and, on failure, ``retCd`` ≠ 0 with ``errCd`` and ``errMsg``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from ismp.engines.cpe import CpeSyntaxError, parse_cpe
from ismp.engines.feeds.base import CvssMetric
from ismp.errors import InputError

SOURCE = "jvn"  # VulnRecord.source: the adapter's registered name
CVSS_SOURCE = "jvndb"  # CvssMetric.source: JVN iPedia (JVNDB) publishes the scores it shows
JST = dt.timezone(dt.timedelta(hours=9), "JST")
SUPPORTED = (
    "getVulnDetailInfo (XML: VULDEF 3.2; JSON: MyJVN CSAF or STIX) and getVulnOverviewList "
    "(XML: JVNRSS 3.2; JSON: MyJVN feed 1.0) responses, and the JVNDB data feeds of the same shapes"
)
VULN_METHODS = frozenset({"getVulnDetailInfo", "getVulnOverviewList"})

_CVE = re.compile(r"CVE-\d{4}-\d{4,}")
_CVSS_PREFIX = re.compile(r"CVSS:(\d\.\d)/")

T = TypeVar("T")


class JvnApiError(InputError):
    """The MyJVN API answered with an error (status ``retCd`` ≠ 0); ``error_code`` is its ``errCd``."""

    code = "jvn-api-error"

    def __init__(self, *, error_code: str, error_message: str, method: str, file: str) -> None:
        what = f"the MyJVN API reported an error for {method or 'the request'}"
        detail = f"{error_code}: {error_message}" if error_code else error_message or "no message given"
        super().__init__(f"{what}: {detail}; correct the request parameters and fetch again", file=file)
        self.error_code = error_code
        self.error_message = error_message
        self.method = method


@dataclass(frozen=True, slots=True)
class JvnStatus:
    """The status block of a MyJVN response (attribute names as MyJVN spells them, in snake case)."""

    method: str = ""
    feed: str = ""  # "hnd" (XML) or "oka" (JSON)
    lang: str = ""
    version: str = ""
    ret_cd: int = 0
    err_cd: str = ""
    err_msg: str = ""
    ret_max: int | None = None
    total_res: int | None = None  # entries that match the query
    total_res_ret: int | None = None  # entries in this response
    first_res: int | None = None  # 1-based position of the first entry of this response


def make_status(values: dict[str, object], filename: str) -> JvnStatus:
    """A status block from its attributes (XML) or members (JSON); raise JvnApiError when it reports one."""

    def integer(name: str) -> int | None:
        value = values.get(name)
        if value is None or value == "" or value == "-":
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value.strip())
        raise InputError(f"status {name} is {value!r}; expected a whole number", file=filename, field=f"status.{name}")

    def text(name: str) -> str:
        value = values.get(name)
        return "" if value is None else str(value).strip()

    status = JvnStatus(
        method=text("method"),
        feed=text("feed"),
        lang=text("lang"),
        version=text("version"),
        ret_cd=integer("retCd") or 0,
        err_cd=text("errCd"),
        err_msg=text("errMsg"),
        ret_max=integer("retMax"),
        total_res=integer("totalRes"),
        total_res_ret=integer("totalResRet"),
        first_res=integer("firstRes"),
    )
    if status.ret_cd != 0 or status.err_cd:
        raise JvnApiError(error_code=status.err_cd, error_message=status.err_msg, method=status.method, file=filename)
    return status


def unsupported(what: str, filename: str) -> InputError:
    return InputError(f"is {what}, which the jvn feed does not read; it reads {SUPPORTED}", file=filename)


# --- where a value comes from ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Place:
    """Where a value comes from: the file, the record's 1-based number in the response, and its id."""

    filename: str
    number: int | None = None
    record: str = ""

    def error(self, field: str, message: str) -> InputError:
        """``record 2 (JVNDB-2018-009328): field message``, located at line = record number and field."""
        who = f"record {self.number}" if self.number is not None else ""
        who += f" ({self.record})" if self.record else ""
        text = f"{field} {message}"
        return InputError(f"{who}: {text}" if who else text, file=self.filename, line=self.number, field=field)


# --- streams -------------------------------------------------------------------------------------------


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class Joined:
    """``head`` (bytes already read, e.g. to sniff the format) followed by the rest of ``stream``."""

    def __init__(self, head: bytes, stream: Readable) -> None:
        self.head = head
        self.stream = stream

    def read(self, size: int = -1, /) -> bytes:
        if not self.head:
            return self.stream.read(size)
        if size < 0:
            chunk, self.head = self.head + self.stream.read(), b""
        else:
            chunk, self.head = self.head[:size], self.head[size:]
        return chunk


# --- values ---------------------------------------------------------------------------------------------


def lang_key(value: str, default: str = "ja") -> str:
    """``ja``, ``en``… from an xml:lang or lang value (``en-US`` → ``en``); ``default`` when empty."""
    primary = value.strip().lower().split("-")[0]
    return primary if primary.isalpha() else default


def is_cve(value: str) -> bool:
    return _CVE.fullmatch(value) is not None


def unique(values: Iterable[T]) -> tuple[T, ...]:
    """The values in first-seen order, without repeats (and without empty strings)."""
    return tuple(value for value in dict.fromkeys(values) if value != "")


def parse_datetime(text: str, place: Place, field: str) -> dt.datetime | None:
    """An ISO 8601 date-time as JVN writes it (``2025-04-11T23:52+09:00`` too); JST when no offset is given."""
    text = text.strip()
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise place.error(field, f'is "{text}", not an ISO 8601 date-time (e.g. 2017-11-16T15:06:40+09:00)') from None
    return value if value.tzinfo is not None else value.replace(tzinfo=JST)


def cvss_metric(
    *, version: str, vector: str, score: object, severity: str, primary: bool, place: Place, field: str
) -> CvssMetric | None:
    """A CvssMetric from JVN's values, or None when there is no score (a severity word alone).

    The version comes from the vector's ``CVSS:3.x/`` prefix when it has one, else from ``version``.
    ``field`` names the score in the error raised when it is not a number from 0 to 10."""
    if score is None or score == "":
        return None
    base_score: float | None = None
    if isinstance(score, int | float) and not isinstance(score, bool):
        base_score = float(score)
    elif isinstance(score, str):
        try:
            base_score = float(score)
        except ValueError:
            base_score = None
    if base_score is None or not math.isfinite(base_score) or not 0.0 <= base_score <= 10.0:
        raise place.error(field, f"is {score!r}, not a CVSS base score (a number from 0 to 10)")
    prefix = _CVSS_PREFIX.match(vector)
    return CvssMetric(
        version=prefix.group(1) if prefix else version.strip(),
        vector=vector.strip(),
        base_score=base_score,
        severity=severity.strip().upper(),
        source=CVSS_SOURCE,
        primary=primary,
    )


def cpe_forms(value: str) -> tuple[str, ...]:
    """A CPE as JVN gives it, then its CPE 2.3 formatted string when that differs and can be derived.

    JVN's XML gives CPE 2.2 URIs (``cpe:/a:veritas:netbackup``); its JSON gives 2.3 strings that keep the
    URI's percent-encoding (``…industrial_data_center_%28idc%29_with_veeam:*:…``), which CPE 2.3 does not
    allow: those are decoded as the URI would be."""
    value = value.strip()
    if not value:
        return ()
    formatted = _formatted(value)
    return (value,) if formatted in (None, value) else (value, formatted)


def _formatted(value: str) -> str | None:
    try:
        return parse_cpe(value).formatted()
    except CpeSyntaxError:
        pass
    components = value.split(":")
    # cpe:2.3:part:vendor:product:version:update:edition:language:sw_edition:target_sw:target_hw:other
    if (
        value.lower().startswith("cpe:2.3:")
        and "%" in value
        and "\\" not in value
        and len(components) == 13
        and all(component == "*" for component in components[9:])
    ):
        uri = "cpe:/" + ":".join("" if part == "*" else part for part in components[2:9])
        try:
            return parse_cpe(uri.rstrip(":")).formatted()
        except CpeSyntaxError:
            return None
    return None
