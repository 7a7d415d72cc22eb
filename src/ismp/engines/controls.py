"""The control baseline (適用基準) and pre-launch gates: which controls a system needs, where it falls short.

DESIGN.md, "Control baseline": each system type requires a set of controls; ISMP records each control's
status and evidence per system and shows the gaps. The default baseline is DESIGN.md's table; the CSIRT
edits it, so a baseline carries a ``version``::

    system type                     FW IDS WAF… (● = required)
    public, with web application    all ten
    public, other (mail etc.)       all but WAF and web diagnosis
    has an internet gateway         FW, IDS/IPS, mail/web AV, profiling, real-time malware, NW diagnosis, risk
    internal only                   mail/web AV, profiling, real-time malware, NW diagnosis, risk assessment

A required control is satisfied when it is implemented (and its evidence is not past its review-by date) or
declared not applicable with a reason. Anything else is a gap: not recorded, missing, partially implemented,
or implemented on stale evidence.

Pre-launch gates (risk-management framework): a system enters service only when its design review
(設計レビュー) and pre-launch diagnosis (リリース前診断) both passed, or an approved exception has not expired.

Everything here is pure: no Django, no clock (``today`` is always given), no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class Control(StrEnum):
    """The controls of DESIGN.md's table, in its column order."""

    FIREWALL = "firewall"
    IDS_IPS = "ids_ips"
    MAIL_WEB_AV = "mail_web_av"
    WAF = "waf"
    VM_SECURITY = "vm_security"
    PROFILING = "profiling"
    REALTIME_MALWARE = "realtime_malware"
    NETWORK_DIAGNOSIS = "network_diagnosis"
    WEB_DIAGNOSIS = "web_diagnosis"
    RISK_ASSESSMENT = "risk_assessment"


CONTROL_NAMES: Mapping[Control, tuple[str, str]] = {
    Control.FIREWALL: ("Firewall", "ファイアウォール"),
    Control.IDS_IPS: ("IDS/IPS", "侵入検知・防御"),
    Control.MAIL_WEB_AV: ("Mail/web antivirus", "メール・Webウイルス対策"),
    Control.WAF: ("WAF", "Webアプリケーションファイアウォール"),
    Control.VM_SECURITY: ("VM security", "仮想サーバセキュリティ"),
    Control.PROFILING: ("Profiling", "プロファイリング"),
    Control.REALTIME_MALWARE: ("Real-time malware detection", "リアルタイムマルウェア検知"),
    Control.NETWORK_DIAGNOSIS: ("Network diagnosis", "NW診断"),
    Control.WEB_DIAGNOSIS: ("Web diagnosis", "Web診断"),
    Control.RISK_ASSESSMENT: ("Risk assessment", "リスクアセスメント"),
}
"""(English, 日本語) for each control; UI labels show both."""

SYSTEM_TYPES: tuple[str, ...] = ("public_web", "public_other", "internet_gateway", "internal")
"""The inventory's system types (``inventory.choices.SystemType``), rows of the baseline."""


class ControlStatus(StrEnum):
    IMPLEMENTED = "implemented"
    PARTIAL = "partial"
    MISSING = "missing"
    NOT_APPLICABLE = "not_applicable"


class GapReason(StrEnum):
    """Why a required control counts as a gap."""

    NOT_RECORDED = "not_recorded"
    MISSING = "missing"
    PARTIAL = "partial"
    STALE = "stale"


_ALL = frozenset(Control)
DEFAULT_REQUIREMENTS: Mapping[str, frozenset[Control]] = {
    "public_web": _ALL,
    "public_other": _ALL - {Control.WAF, Control.WEB_DIAGNOSIS},
    "internet_gateway": _ALL - {Control.WAF, Control.VM_SECURITY, Control.WEB_DIAGNOSIS},
    "internal": frozenset(
        {
            Control.MAIL_WEB_AV,
            Control.PROFILING,
            Control.REALTIME_MALWARE,
            Control.NETWORK_DIAGNOSIS,
            Control.RISK_ASSESSMENT,
        }
    ),
}


@dataclass(frozen=True, slots=True)
class Baseline:
    """Which controls each system type requires. Build one with :func:`make_baseline` (validated)."""

    version: int
    requirements: Mapping[str, frozenset[Control]]

    def required(self, system_type: str) -> frozenset[Control]:
        """The controls a system of this type requires (none for a type the baseline does not know)."""
        return self.requirements.get(system_type, frozenset())

    def as_dict(self) -> dict[str, list[str]]:
        """Plain JSON: system type → controls in table order."""
        return {t: [c.value for c in Control if c in self.required(t)] for t in SYSTEM_TYPES}


def make_baseline(version: int, requirements: Mapping[str, Iterable[str]]) -> Baseline:
    """A validated baseline: every system type present, nothing but known controls.

    Raises ``ValueError`` naming the bad type or control and listing the valid ones."""
    unknown_types = sorted(set(requirements) - set(SYSTEM_TYPES))
    if unknown_types:
        raise ValueError(f"unknown system type {unknown_types[0]!r}; expected one of {', '.join(SYSTEM_TYPES)}")
    missing = [t for t in SYSTEM_TYPES if t not in requirements]
    if missing:
        raise ValueError(f"system type {missing[0]!r} is missing; every type needs a row (it may be empty)")
    if version < 0:
        raise ValueError(f"version {version} is negative")
    parsed: dict[str, frozenset[Control]] = {}
    for system_type in SYSTEM_TYPES:
        controls: set[Control] = set()
        for name in requirements[system_type]:
            try:
                controls.add(Control(name))
            except ValueError:
                valid = ", ".join(c.value for c in Control)
                raise ValueError(f"{system_type}: unknown control {name!r}; expected one of {valid}") from None
        parsed[system_type] = frozenset(controls)
    return Baseline(version, parsed)


DEFAULT_BASELINE = make_baseline(1, DEFAULT_REQUIREMENTS)
"""DESIGN.md's table, version 1: what a new installation starts from."""


# ------------------------------------------------------------------------------------ status and gaps


@dataclass(frozen=True, slots=True)
class ControlRecord:
    """What is recorded for one control of one system."""

    control: Control
    status: ControlStatus
    review_by: date | None = None


@dataclass(frozen=True, slots=True)
class Gap:
    control: Control
    reason: GapReason


@dataclass(frozen=True, slots=True)
class SystemControls:
    """One system against the baseline: what it requires, what is satisfied, and the gaps."""

    required: frozenset[Control]
    implemented: frozenset[Control]
    not_applicable: frozenset[Control]
    gaps: tuple[Gap, ...]

    @property
    def gap_controls(self) -> frozenset[Control]:
        return frozenset(g.control for g in self.gaps)


def is_stale(record: ControlRecord, today: date) -> bool:
    """Evidence past its review-by date no longer proves the control: the day after it, it is stale."""
    return record.review_by is not None and record.review_by < today


def gap_reason(record: ControlRecord | None, today: date) -> GapReason | None:
    """Why one required control is a gap, or None when it is satisfied."""
    if record is None:
        return GapReason.NOT_RECORDED
    if record.status == ControlStatus.NOT_APPLICABLE:
        return None
    if record.status == ControlStatus.MISSING:
        return GapReason.MISSING
    if record.status == ControlStatus.PARTIAL:
        return GapReason.PARTIAL
    return GapReason.STALE if is_stale(record, today) else None


def evaluate(required: frozenset[Control], records: Iterable[ControlRecord], today: date) -> SystemControls:
    """A system's required controls against what is recorded for it. Controls recorded but not required
    are ignored here (the page still shows them)."""
    by_control = {r.control: r for r in records}
    gaps = []
    implemented, not_applicable = set(), set()
    for control in Control:  # table order
        if control not in required:
            continue
        record = by_control.get(control)
        reason = gap_reason(record, today)
        if reason is not None:
            gaps.append(Gap(control, reason))
        elif record is not None and record.status == ControlStatus.NOT_APPLICABLE:
            not_applicable.add(control)
        else:
            implemented.add(control)
    return SystemControls(required, frozenset(implemented), frozenset(not_applicable), tuple(gaps))


# ------------------------------------------------------------------------------------------- coverage


@dataclass(frozen=True, slots=True)
class CoverageRow:
    """Counts of required controls for one group of systems (an organisation, or the whole company).

    ``required`` = ``implemented`` + ``not_applicable`` + ``gaps``; ``stale`` is the part of the gaps
    whose control is implemented on evidence past its review-by date."""

    key: str
    name: str
    systems: int
    required: int
    implemented: int
    not_applicable: int
    stale: int = 0

    @property
    def gaps(self) -> int:
        return self.required - self.implemented - self.not_applicable

    @property
    def ratio(self) -> float:
        """The share of required controls satisfied (1.0 when nothing is required)."""
        return (self.implemented + self.not_applicable) / self.required if self.required else 1.0

    @property
    def percent(self) -> int:
        return int(self.ratio * 100)


@dataclass(frozen=True, slots=True)
class Coverage:
    """Company-wide counts with one row per organisation, the worst covered first."""

    total: CoverageRow
    rows: tuple[CoverageRow, ...] = field(default_factory=tuple)

    @property
    def required(self) -> int:
        return self.total.required

    @property
    def implemented(self) -> int:
        return self.total.implemented

    @property
    def gaps(self) -> int:
        return self.total.gaps


def summarise(rows: Sequence[CoverageRow], *, key: str = "", name: str = "all") -> Coverage:
    """Sum organisation rows into a company-wide total; rows sorted by gaps, most first."""
    total = CoverageRow(
        key=key,
        name=name,
        systems=sum(r.systems for r in rows),
        required=sum(r.required for r in rows),
        implemented=sum(r.implemented for r in rows),
        not_applicable=sum(r.not_applicable for r in rows),
        stale=sum(r.stale for r in rows),
    )
    ordered = sorted(rows, key=lambda r: (-r.gaps, r.ratio, r.key))
    return Coverage(total, tuple(ordered))


def coverage_of(
    systems: Iterable[tuple[str, str, str, Sequence[ControlRecord]]], baseline: Baseline, today: date
) -> Coverage:
    """Coverage from plain data: (organisation key, organisation name, system type, records) per system.
    The database computes the same with aggregates (``controls.queries.coverage``); this is its reference."""
    groups: dict[str, list[int]] = {}
    names: dict[str, str] = {}
    for key, name, system_type, records in systems:
        result = evaluate(baseline.required(system_type), records, today)
        stale = sum(1 for g in result.gaps if g.reason == GapReason.STALE)
        counts = groups.setdefault(key, [0, 0, 0, 0, 0])
        names[key] = name
        for i, n in enumerate((1, len(result.required), len(result.implemented), len(result.not_applicable), stale)):
            counts[i] += n
    rows = [CoverageRow(k, names[k], *counts) for k, counts in groups.items()]
    return summarise(rows)


# ---------------------------------------------------------------------------------- pre-launch gates


class GateKind(StrEnum):
    DESIGN_REVIEW = "design_review"
    PRELAUNCH = "prelaunch"


GATE_NAMES: Mapping[GateKind, tuple[str, str]] = {
    GateKind.DESIGN_REVIEW: ("design review", "設計レビュー"),
    GateKind.PRELAUNCH: ("pre-launch diagnosis", "リリース前診断"),
}


class GateResult(StrEnum):
    PASSED = "passed"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class GateState:
    """A system's latest result for each gate (None: never recorded) and the expiry date of its approved
    exception, if any."""

    results: Mapping[GateKind, GateResult | None]
    exception_expires: date | None = None


def exception_valid(expires: date | None, today: date) -> bool:
    """An approved exception holds up to and including its expiry date."""
    return expires is not None and today <= expires


def launch_blockers(state: GateState, today: date) -> list[str]:
    """What keeps a system out of service, in words: empty when both gates passed or an approved exception
    holds. E.g. ``["design review not passed", "pre-launch diagnosis not recorded"]``."""
    if exception_valid(state.exception_expires, today):
        return []
    blockers = []
    for kind in GateKind:
        result = state.results.get(kind)
        if result == GateResult.PASSED:
            continue
        words = "not recorded" if result is None else "not passed"
        blockers.append(f"{GATE_NAMES[kind][0]} {words}")
    return blockers


def refusal(system_name: str, blockers: Sequence[str]) -> str:
    """The message a person reads when a system may not enter service."""
    return f"{system_name} cannot enter in service: {', '.join(blockers)}"
