"""Work items and urgency, persisted.

- **Urgency** (対応緊急度) is decided per vulnerability by ``ismp.engines.urgency`` from its risk level,
  attack vector and exploit evidence, under the matrix in force (``UrgencyMatrix``), and stored in
  ``VulnerabilityUrgency``. ``recompute_pending_urgency`` reads the feeds' change events past its own mark
  (``UrgencyState``), so a lost task misses nothing. A rise is applied to every open work item of the
  vulnerability at once, shortens its deadlines and is announced; a fall comes only from an input change
  (recorded with the new explanation) or an analyst's override with a reason (``override_urgency``).
- **Work items** follow the findings (``findings_changed``): one per system × vulnerability, created when a
  finding its administrators may see opens (a low-confidence match waits for the CSIRT's confirmation),
  closed with the finding's reason when none is left open, reopened when one comes back.
- **Transitions** go through ``transition``: the engine's role and state checks, then optimistic locking on
  ``version`` (two people answering the same item cannot both win), the item's history and the audit trail.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Least
from django.utils import timezone

from ismp.apps.audit import services as audit
from ismp.apps.audit.models import AuditAction
from ismp.apps.audit.services import Actor
from ismp.apps.bulk import db_datetime, insert_rows, update_rows
from ismp.apps.findings.choices import Confidence, FindingState
from ismp.apps.findings.models import Finding
from ismp.apps.inventory.models import System
from ismp.apps.vulns.models import ChangeEvent, ExploitEvidence, Vulnerability
from ismp.apps.workflow.models import (
    ResponsePolicy,
    UrgencyMatrix,
    UrgencyState,
    VulnerabilityUrgency,
    WorkItem,
    WorkItemEvent,
)
from ismp.engines import severity
from ismp.engines import urgency as engine
from ismp.engines import workflow as machine
from ismp.errors import Conflict, Forbidden, InputError

CHUNK = 500


# ------------------------------------------------------------------------------------ policy and matrix


def current_matrix() -> engine.Matrix:
    """The urgency matrix in force: the newest stored version, else DESIGN.md's default."""
    row = UrgencyMatrix.objects.order_by("-created_at", "-pk").first()
    return engine.DEFAULT_MATRIX if row is None else engine.Matrix.from_mapping(row.version, row.cells)


Thresholds = tuple[tuple[float, int], ...]


def current_thresholds() -> Thresholds:
    """CVSS base score → risk level in force: the newest matrix version's, else DESIGN.md's defaults."""
    row = UrgencyMatrix.objects.order_by("-created_at", "-pk").values_list("thresholds", flat=True).first()
    return tuple((float(score), int(level)) for score, level in row) if row else severity.DEFAULT_THRESHOLDS


def _checked_thresholds(given: Sequence[Sequence[float | int]]) -> Thresholds:
    """Thresholds as [[minimum score, level], …]: scores 0.1–10 strictly falling, levels 5…2 strictly falling."""
    try:
        pairs = tuple((float(score), int(level)) for score, level in given)
    except (TypeError, ValueError) as exc:
        raise InputError("thresholds are pairs [minimum CVSS score, risk level]", field="thresholds") from exc
    for index, (score, level) in enumerate(pairs):
        if not 0 < score <= 10 or level not in (2, 3, 4, 5):
            raise InputError(
                f"threshold {index + 1} ({score:g} → {level}): the score must be 0.1–10 and the level 2–5",
                field="thresholds",
            )
        if index and (score >= pairs[index - 1][0] or level >= pairs[index - 1][1]):
            raise InputError(
                f"threshold {index + 1} ({score:g} → {level}): scores and levels must fall from one to the next",
                field="thresholds",
            )
    if not pairs:
        raise InputError("give at least one threshold", field="thresholds")
    return pairs


def set_matrix(
    actor: Actor,
    cells: Mapping[str, Mapping[int | str, str]],
    *,
    note: str,
    thresholds: Sequence[Sequence[float | int]] | None = None,
) -> UrgencyMatrix:
    """Store a new version of the matrix and, optionally, of the risk-level thresholds (CSIRT only; audited)
    and recompute every urgency under it. Without ``thresholds`` those in force are kept."""
    if actor.user is not None and not actor.user.is_csirt:
        raise Forbidden("only the CSIRT edits the urgency matrix")
    if not note.strip():
        raise InputError("say why the matrix changes", field="note")
    levels = _checked_thresholds(thresholds) if thresholds is not None else current_thresholds()
    count = UrgencyMatrix.objects.count() + 1
    version = f"matrix-{count}-{timezone.now():%Y%m%d%H%M%S}"
    try:
        matrix = engine.Matrix.from_mapping(version, cells)
    except ValueError as exc:
        raise InputError(str(exc), field="cells") from exc
    with transaction.atomic():
        row = UrgencyMatrix.objects.create(
            version=version,
            cells=matrix.to_mapping(),
            thresholds=[list(pair) for pair in levels],
            note=note.strip(),
            created_by=actor.user,
        )
        audit.record(actor, AuditAction.CREATE, row, None, audit.snapshot(row))
        recompute_urgency(None, actor=actor)
    return row


@dataclass(frozen=True)
class Policy:
    answer_days: Mapping[str, int]
    deadline_days: Mapping[str, int]
    business_days: bool

    def periods(self, urgency: str, start: dt.datetime) -> machine.Periods:
        holidays = japanese_holidays(start.year, start.year + 1) if self.business_days else frozenset()
        return machine.periods(
            urgency,
            start,
            answer_days=self.answer_days,
            deadline_days=self.deadline_days,
            business_days=self.business_days,
            holidays=holidays,
        )


def current_policy() -> Policy:
    row = ResponsePolicy.objects.order_by("-created_at", "-pk").first()
    if row is None:
        return Policy(machine.DEFAULT_ANSWER_DAYS, engine.DEFAULT_DEADLINE_DAYS, False)
    return Policy(row.answer_days, row.deadline_days, row.business_days)


def set_policy(
    actor: Actor, *, answer_days: Mapping[str, int], deadline_days: Mapping[str, int], business_days: bool
) -> ResponsePolicy:
    """Store new registration periods and deadlines (CSIRT only; audited). Existing items keep theirs."""
    if actor.user is not None and not actor.user.is_csirt:
        raise Forbidden("only the CSIRT sets registration periods and deadlines")
    for name, days in (("answer_days", answer_days), ("deadline_days", deadline_days)):
        for urgency in engine.URGENCIES:
            value = days.get(urgency)
            if not isinstance(value, int) or not 0 < value <= 365:
                raise InputError(f"{name}[{urgency}] must be a whole number of days from 1 to 365", field=name)
    with transaction.atomic():
        row = ResponsePolicy.objects.create(
            answer_days={u: answer_days[u] for u in engine.URGENCIES},
            deadline_days={u: deadline_days[u] for u in engine.URGENCIES},
            business_days=business_days,
            created_by=actor.user,
        )
        audit.record(actor, AuditAction.CREATE, row, None, audit.snapshot(row))
    return row


@functools.lru_cache(maxsize=8)
def japanese_holidays(first_year: int, last_year: int) -> frozenset[dt.date]:
    """Japan's public holidays (祝日) of the given years, from the ``holidays`` package."""
    import holidays

    return frozenset(holidays.country_holidays("JP", years=range(first_year, last_year + 1)))


# ----------------------------------------------------------------------------------------------- urgency

_EVIDENCE_KIND = {"kev": "kev", "exploitdb": "exploitdb", "metasploit": "metasploit", "analyst": "analyst"}


def _evidence(source: str, date: dt.date | None, reference: str, details: Mapping[str, Any]) -> engine.Evidence | None:
    if source == "ssvc":
        exploitation = str(details.get("exploitation", ""))
        return engine.Evidence(f"ssvc_{exploitation}") if exploitation in ("poc", "active") else None
    kind = _EVIDENCE_KIND.get(source)
    if kind is None:
        return None
    return engine.Evidence(kind, date_added=date if kind == "kev" else None, reference=reference)


def _risk_basis(severity_basis: str) -> str:
    """ "CVSS 3.1 9.8 (nvd@nist.gov) → 5" → "CVSS 3.1 9.8 (nvd@nist.gov)": the engine adds the level itself."""
    return severity_basis.rsplit(" → ", 1)[0] if " → " in severity_basis else severity_basis


def decide_urgencies(
    vuln_pks: Sequence[int], matrix: engine.Matrix | None = None, thresholds: Thresholds | None = None
) -> dict[int, engine.Urgency]:
    """The urgency of each vulnerability from its stored inputs, in a few queries per chunk. A CVSS score
    gives the risk level through the thresholds in force; without one, the level the feeds gave (from a
    JVN/CNA severity word) stands."""
    matrix = matrix or current_matrix()
    thresholds = thresholds or current_thresholds()
    result: dict[int, engine.Urgency] = {}
    for start in range(0, len(vuln_pks), CHUNK):
        chunk = vuln_pks[start : start + CHUNK]
        rows = list(
            Vulnerability.objects.filter(pk__in=chunk).values_list(
                "pk", "vuln_id", "risk_level", "cvss_score", "severity_basis", "attack_vector", "cvss_vector"
            )
        )
        evidence: dict[str, list[engine.Evidence]] = defaultdict(list)
        names = [row[1] for row in rows]
        for vuln_id, source, date, reference, details in ExploitEvidence.objects.filter(vuln_id__in=names).values_list(
            "vuln_id", "source", "date", "reference", "details"
        ):
            found = _evidence(source, date, reference, details or {})
            if found is not None:
                evidence[vuln_id].append(found)
        for pk, vuln_id, level, score, basis, attack_vector, vector in rows:
            if score is not None and score > 0:
                level = severity.risk_level(score, thresholds)
            given = engine.UrgencyInput(
                level or 1, _risk_basis(basis), attack_vector or vector or "", tuple(evidence[vuln_id])
            )
            result[pk] = engine.decide(given, matrix)
    return result


@dataclass
class UrgencyReport:
    vulnerabilities: int = 0
    changed: int = 0
    items_raised: int = 0
    items_lowered: int = 0
    announced: list[int] = field(default_factory=list)  # work items whose rise was announced

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "announced"} | {"announced": len(self.announced)}


_URGENCY_FIELDS = ("value", "level", "possibility", "explanation", "matrix_version", "computed_at")


def recompute_urgency(vuln_pks: Iterable[int] | None, *, actor: Actor = audit.SYSTEM_ACTOR) -> UrgencyReport:
    """Decide the urgency of these vulnerabilities (all when None) again, store what changed, and carry it to
    their open work items: a rise shortens the deadlines and is announced; a fall (an input changed) is
    recorded with the new explanation. Items with an analyst's override keep it."""
    pks = sorted(set(vuln_pks)) if vuln_pks is not None else list(Vulnerability.objects.values_list("pk", flat=True))
    report = UrgencyReport(vulnerabilities=len(pks))
    matrix, thresholds = current_matrix(), current_thresholds()
    policy = current_policy()
    now = timezone.now()
    for start in range(0, len(pks), CHUNK):
        chunk = pks[start : start + CHUNK]
        decided = decide_urgencies(chunk, matrix, thresholds)
        with transaction.atomic():
            stored = {
                row.vulnerability_id: row for row in VulnerabilityUrgency.objects.filter(vulnerability_id__in=chunk)
            }
            create, update = [], []
            for pk, urgency in decided.items():
                row = stored.get(pk)
                fields = {
                    "value": urgency.value,
                    "level": urgency.level,
                    "possibility": urgency.possibility.value,
                    "explanation": urgency.explanation,
                    "matrix_version": urgency.matrix_version,
                    "computed_at": now,
                }
                if row is None:
                    create.append(VulnerabilityUrgency(vulnerability_id=pk, **fields))
                elif row.value != urgency.value or row.explanation != urgency.explanation:
                    for name, value in fields.items():
                        setattr(row, name, value)
                    update.append(row)
            VulnerabilityUrgency.objects.bulk_create(create, batch_size=CHUNK)
            update_rows(
                VulnerabilityUrgency,
                "vulnerability_id",
                _URGENCY_FIELDS,
                ((*(getattr(row, name) for name in _URGENCY_FIELDS[:-1]), db_datetime(now), row.pk) for row in update),
            )
            report.changed += len(create) + len(update)
            _carry_to_items(decided, policy, now, actor, report)
    _announce_rises(report.announced)
    return report


def _carry_to_items(
    decided: Mapping[int, engine.Urgency], policy: Policy, now: dt.datetime, actor: Actor, report: UrgencyReport
) -> None:
    """Set the new urgency on the live items (not overridden) whose urgency differs: one UPDATE per new
    urgency and direction (the explanation read from the stored vulnerability urgency), the history rows in
    one insert. A rise takes the earlier of each item's
    deadlines and the new urgency's; a fall keeps the deadlines."""
    live = [s.value for s in machine.OPEN_STATES | {machine.State.ACCEPTED}]
    rows = WorkItem.objects.filter(vulnerability_id__in=list(decided), state__in=live, urgency_override="")
    changed: dict[tuple[str, bool], list[int]] = defaultdict(list)  # (new urgency, rise) → items
    events = []
    stamp = db_datetime(now)
    for pk, vuln_id, old, state in rows.values_list("pk", "vulnerability_id", "urgency", "state"):
        urgency = decided[vuln_id or 0]
        if urgency.value == old:
            continue
        rise = engine.URGENCY_RANK[urgency.value] > engine.URGENCY_RANK[old]
        changed[(urgency.value, rise)].append(pk)
        action = "urgency_raised" if rise else "urgency_lowered"
        events.append((pk, stamp, actor.user_id, actor.name, action, state, state, f"{old} → {urgency.explanation}"))
        if rise:
            report.items_raised += 1
            report.announced.append(pk)
        else:
            report.items_lowered += 1
    explanation = Subquery(
        VulnerabilityUrgency.objects.filter(vulnerability_id=OuterRef("vulnerability_id")).values("explanation")[:1]
    )
    for (value, rise), pks in changed.items():
        values: dict[str, Any] = {
            "urgency": value,
            "urgency_explanation": explanation,
            "version": F("version") + 1,
            "updated_at": now,
        }
        if rise:
            periods = policy.periods(value, now)
            values["answer_due"] = Least(F("answer_due"), Value(periods.answer_due))
            values["due"] = Least(F("due"), Value(periods.due))
        for start in range(0, len(pks), CHUNK):
            WorkItem.objects.filter(pk__in=pks[start : start + CHUNK]).update(**values)
    columns = ("item_id", "at", "actor_id", "actor_label", "action", "from_state", "to_state", "note")
    insert_rows(WorkItemEvent, columns, events)


def recompute_pending_urgency() -> UrgencyReport:
    """Recompute the urgency of the vulnerabilities named by every change event since the last run."""
    state = UrgencyState.objects.first() or UrgencyState.objects.create()
    last = ChangeEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    names = set(ChangeEvent.objects.filter(pk__gt=state.last_event, pk__lte=last).values_list("vuln_id", flat=True))
    pks: list[int] = []
    ordered = sorted(names)
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start : start + CHUNK]
        pks.extend(Vulnerability.objects.filter(vuln_id__in=chunk).values_list("pk", flat=True))
    report = recompute_urgency(pks)
    UrgencyState.objects.filter(pk=state.pk).update(last_event=last, computed_at=timezone.now())
    return report


def override_urgency(actor: Actor, item: WorkItem, value: str, *, reason: str, version: int) -> WorkItem:
    """An analyst sets (or with ``value=""`` clears) the urgency of one work item, with a reason (CSIRT only)."""
    if actor.user is not None and not actor.user.is_csirt:
        raise Forbidden("only the CSIRT overrides an urgency")
    if value and value not in engine.URGENCIES:
        raise InputError(f"urgency {value!r} is not one of {', '.join(engine.URGENCIES)}", field="urgency")
    if not reason.strip():
        raise InputError("say why the urgency is set by hand", field="reason")
    with transaction.atomic():
        item = _locked(item.pk, version)
        before = audit.snapshot(item)
        old = item.urgency
        if value:
            item.urgency_override, item.urgency = value, value
        else:
            item.urgency_override = ""
            decided = VulnerabilityUrgency.objects.filter(vulnerability_id=item.vulnerability_id or 0).first()
            item.urgency = decided.value if decided else item.urgency
        item.urgency_override_reason = reason.strip() if value else ""
        if engine.URGENCY_RANK[item.urgency] > engine.URGENCY_RANK[old]:
            periods = current_policy().periods(item.urgency, timezone.now())
            item.answer_due, item.due = min(item.answer_due, periods.answer_due), min(item.due, periods.due)
        _save(item, actor, "urgency_override", before, note=f"{old} → {item.urgency}: {reason.strip()}")
    return item


# ----------------------------------------------------------------------------------- following findings


@dataclass
class SyncReport:
    created: int = 0
    closed: int = 0
    reopened: int = 0
    new_items: list[int] = field(default_factory=list)


def on_findings_changed(sender: Any, pairs: set[tuple[int, int]], **_: Any) -> None:
    """``findings_changed`` receiver: runs inside the findings' transaction."""
    report = sync_pairs(pairs)
    if report.new_items:
        items = list(report.new_items)
        transaction.on_commit(lambda: announce_items("finding.new", items))


def sync_pairs(pairs: Iterable[tuple[int, int]], *, now: dt.datetime | None = None) -> SyncReport:
    """Bring the work items of these (system, vulnerability) pairs in line with their findings."""
    now = now or timezone.now()
    report = SyncReport()
    ordered = sorted(set(pairs))
    policy = current_policy()
    for start in range(0, len(ordered), CHUNK):
        _sync_chunk(ordered[start : start + CHUNK], policy, now, report)
    return report


def _sync_chunk(pairs: list[tuple[int, int]], policy: Policy, now: dt.datetime, report: SyncReport) -> None:
    wanted = set(pairs)
    systems = {s for s, _ in pairs}
    vulns = {v for _, v in pairs}
    visible: set[tuple[int, int]] = set()
    reasons: dict[tuple[int, int], str] = {}
    for system_id, vuln_id, state, confidence, confirmed, closed_reason, justification in Finding.objects.filter(
        system_id__in=systems, vulnerability_id__in=vulns
    ).values_list(
        "system_id", "vulnerability_id", "state", "confidence", "confirmed_at", "closed_reason", "justification"
    ):
        pair = (system_id, vuln_id)
        if pair not in wanted:
            continue
        if state == FindingState.OPEN and (confidence != Confidence.LOW or confirmed is not None):
            visible.add(pair)
        elif state == FindingState.NOT_AFFECTED:
            reasons[pair] = f"not affected (VEX: {justification})"
        elif closed_reason:
            reasons.setdefault(pair, closed_reason)
    items: dict[tuple[int, int], WorkItem] = {
        (item.system_id, item.vulnerability_id or 0): item
        for item in WorkItem.objects.filter(
            system_id__in=systems, vulnerability_id__in=vulns, kind=machine.Kind.SECURITY_INFO
        )
    }
    missing = sorted(pair for pair in visible if pair not in items)
    if missing:
        urgencies = _stored_urgencies({v for _, v in missing})
        created = []
        for system_id, vuln_id in missing:
            urgency = urgencies[vuln_id]
            periods = policy.periods(urgency.value, now)
            created.append(
                WorkItem(
                    kind=machine.Kind.SECURITY_INFO,
                    system_id=system_id,
                    vulnerability_id=vuln_id,
                    urgency=urgency.value,
                    urgency_explanation=urgency.explanation,
                    opened_at=now,
                    answer_due=periods.answer_due,
                    due=periods.due,
                    updated_at=now,
                )
            )
        WorkItem.objects.bulk_create(created, batch_size=CHUNK)
        new_pks = [item.pk for item in created]
        report.new_items.extend(new_pks)
        report.created += len(new_pks)
    for pair, item in items.items():
        if pair not in wanted:
            continue
        if pair in visible and item.state == machine.State.CLOSED:
            _system_step(item, machine.Step(machine.Action.REOPEN, reason="the finding is open again"), now)
            report.reopened += 1
        elif pair not in visible and item.state in machine.OPEN_STATES | {machine.State.ACCEPTED}:
            reason = reasons.get(pair, "the finding is no longer open")
            _system_step(item, machine.Step(machine.Action.CLOSE, reason=reason[:300]), now)
            report.closed += 1


def _stored_urgencies(vuln_pks: set[int]) -> dict[int, engine.Urgency]:
    """Stored urgencies, deciding (and storing) first the ones not decided yet."""
    missing = vuln_pks - set(
        VulnerabilityUrgency.objects.filter(vulnerability_id__in=vuln_pks).values_list("vulnerability_id", flat=True)
    )
    if missing:
        recompute_urgency(missing)
    return {
        row.vulnerability_id: engine.Urgency(
            row.value, row.level, engine.AttackPossibility(row.possibility), row.explanation, row.matrix_version
        )
        for row in VulnerabilityUrgency.objects.filter(vulnerability_id__in=vuln_pks)
    }


def _system_step(item: WorkItem, step: machine.Step, now: dt.datetime) -> None:
    before = audit.snapshot(item)
    after = machine.apply(snapshot(item), machine.SYSTEM, step, today=timezone.localdate(now), now=now)
    _store(item, after)
    _save(item, audit.SYSTEM_ACTOR, step.action.value, before, note=step.reason, now=now)


# ------------------------------------------------------------------------------------------ transitions


def engine_actor(user: Any, item: WorkItem) -> machine.Actor:
    """How the state machine sees ``user`` for ``item``'s system."""
    if user is None:
        return machine.Actor(machine.Role.CSIRT, name="operator")
    administers = System.administrators.through.objects.filter(system_id=item.system_id, user_id=user.pk).exists()
    owns = System.objects.filter(pk=item.system_id, service_owner_id=user.pk).exists()
    return machine.Actor(machine.Role(user.role), administers=administers, owns_service=owns, name=user.username)


def transition(actor: Actor, item: WorkItem, step: machine.Step, *, version: int) -> WorkItem:
    """Take ``step`` on ``item`` as ``actor``; ``version`` is the item's version the actor saw. Raises
    Forbidden (role), InputError (state or value) or Conflict (someone changed it meanwhile)."""
    now = timezone.now()
    with transaction.atomic():
        current = _locked(item.pk, version)
        who = engine_actor(actor.user, current)
        before = audit.snapshot(current)
        seen = snapshot(current)
        try:
            machine.check_role(seen, who, step.action)
        except machine.Refused as refusal:
            raise Forbidden(str(refusal)) from refusal
        try:
            after = machine.apply(seen, who, step, today=timezone.localdate(now), now=now)
        except machine.Refused as refusal:
            raise InputError(str(refusal), field=step.action.value) from refusal
        _store(current, after)
        if current.answered_at is None and after.state is not machine.State.NEW:
            current.answered_at = now
        _save(current, actor, step.action.value, before, note=_note(step), now=now)
    return current


def _note(step: machine.Step) -> str:
    parts = [step.reason, step.method, step.evidence]
    if step.planned_date:
        parts.insert(0, f"planned {step.planned_date.isoformat()}")
    if step.needed is not None:
        parts.insert(0, "needed" if step.needed else "not needed")
    return "; ".join(p for p in parts if p)[:4000]


def _locked(pk: int, version: int) -> WorkItem:
    item = WorkItem.objects.select_for_update(of=("self",)).select_related("system", "vulnerability").get(pk=pk)
    if item.version != version:
        last = item.events.order_by("-at", "-pk").first()
        by = f" by {last.actor_label} at {last.at:%Y-%m-%d %H:%M} UTC" if last else ""
        raise Conflict(
            f"work item {pk} was changed{by} after you opened it (version {version}, now {item.version})",
            hint="reload the item and take the action again",
        )
    return item


def snapshot(item: WorkItem) -> machine.Item:
    """The stored item as the state machine sees it."""
    return machine.Item(
        kind=machine.Kind(item.kind),
        state=machine.State(item.state),
        urgency=item.urgency,
        needed=item.needed,
        decision_reason=item.decision_reason,
        planned_date=item.planned_date,
        method=item.method,
        evidence=item.evidence,
        completed_on=item.completed_on,
        verified_at=item.verified_at,
        stop_ordered_at=item.stop_ordered_at,
        stop_order=item.stop_order,
        service_stopped_at=item.service_stopped_at,
        service_resumed_at=item.service_resumed_at,
        no_stop_grounds=item.no_stop_grounds,
        exception_reason=item.exception_reason,
        exception_until=item.exception_until,
        resume_state=machine.State(item.resume_state) if item.resume_state else None,
        closed_reason=item.closed_reason,
        last_note=item.last_note,
    )


_STORED = (
    "needed",
    "decision_reason",
    "planned_date",
    "method",
    "evidence",
    "completed_on",
    "verified_at",
    "stop_ordered_at",
    "stop_order",
    "service_stopped_at",
    "service_resumed_at",
    "no_stop_grounds",
    "exception_reason",
    "exception_until",
    "closed_reason",
    "last_note",
)


def _store(item: WorkItem, after: machine.Item) -> None:
    item.state = after.state.value
    item.resume_state = after.resume_state.value if after.resume_state else ""
    for name in _STORED:
        setattr(item, name, getattr(after, name))


def _save(
    item: WorkItem, actor: Actor, action: str, before: audit.Snapshot, *, note: str, now: dt.datetime | None = None
) -> None:
    now = now or timezone.now()
    item.version += 1
    item.updated_at = now
    item.save()
    _event(item, actor, action, note=note, at=now, from_state=str(before.get("state", ""))).save()
    audit.record(actor, AuditAction.UPDATE, item, before, audit.snapshot(item))


def _event(
    item: WorkItem, actor: Actor, action: str, *, note: str, at: dt.datetime, from_state: str = ""
) -> WorkItemEvent:
    return WorkItemEvent(
        item_id=item.pk,
        at=at,
        actor=actor.user,
        actor_label=actor.name,
        action=action,
        from_state=from_state or item.state,
        to_state=item.state,
        note=note[:4000],
    )


# ---------------------------------------------------------------------------- expiry, reminders, escalation


@dataclass
class SweepReport:
    expired: int = 0
    reminded: int = 0
    escalated: int = 0


REMIND_BEFORE = dt.timedelta(hours=24)
UNANSWERED = (machine.State.NEW.value,)
UNFINISHED = tuple(s.value for s in machine.OPEN_STATES)


def sweep(now: dt.datetime | None = None) -> SweepReport:
    """What the periodic task runs: expire exceptions past their date; remind the administrators of items
    whose registration period ends within a day and that are unanswered; escalate items past their
    registration period or deadline (once a day each) to the organisation's head and the CISO."""
    now = now or timezone.now()
    report = SweepReport()
    today = timezone.localdate(now)
    with transaction.atomic():
        for item in WorkItem.objects.select_for_update().filter(
            state=machine.State.ACCEPTED, exception_until__lte=today
        ):
            _system_step(item, machine.Step(machine.Action.EXPIRE_EXCEPTION), now)
            report.expired += 1
    remind = WorkItem.objects.filter(
        state__in=UNANSWERED, answer_due__gt=now, answer_due__lte=now + REMIND_BEFORE, reminded_at__isnull=True
    )
    reminded = list(remind.values_list("pk", flat=True))
    overdue = WorkItem.objects.filter(
        Q(state__in=UNANSWERED, answer_due__lte=now) | Q(state__in=UNFINISHED, due__lte=now)
    ).filter(Q(escalated_at__isnull=True) | Q(escalated_at__lte=now - dt.timedelta(days=1)))
    escalated = list(overdue.values_list("pk", flat=True))
    WorkItem.objects.filter(pk__in=reminded).update(reminded_at=now)
    WorkItem.objects.filter(pk__in=escalated).update(escalated_at=now)
    report.reminded, report.escalated = len(reminded), len(escalated)
    if reminded:
        announce_items("workitem.reminder", reminded, dedupe_suffix=f"{today.isoformat()}")
    if escalated:
        announce_items("workitem.overdue", escalated, dedupe_suffix=f"{today.isoformat()}")
    return report


# ------------------------------------------------------------------------------------------ notification


def _announce_rises(item_pks: list[int]) -> None:
    if item_pks:
        items = list(item_pks)
        transaction.on_commit(lambda: announce_items("finding.escalated", items))


def announce_items(event: str, item_pks: Sequence[int], *, dedupe_suffix: str = "") -> None:
    """Notify the administrators of these items' systems (one message per person), through notifications.
    A drill's items are announced as a drill."""
    from ismp.apps.notifications.services import Subject, announce

    real: list[Subject] = []
    drill: list[Subject] = []
    for start in range(0, len(item_pks), CHUNK):
        rows = WorkItem.objects.filter(pk__in=item_pks[start : start + CHUNK]).values_list(
            "pk",
            "system_id",
            "vulnerability__vuln_id",
            "vulnerability__title",
            "title",
            "urgency",
            "answer_due",
            "drill_id",
        )
        for pk, system_id, vuln_id, vuln_title, title, urgency, answer_due, drill_id in rows:
            subject = Subject(
                system_id=system_id,
                vuln_id=vuln_id or title,
                urgency=urgency,
                title=vuln_title or title,
                work_item_id=pk,
                due=answer_due,
                url=f"/workitems/{pk}/",
            )
            (drill if drill_id else real).append(subject)
    for subjects, is_drill in ((real, False), (drill, True)):
        if not subjects:
            continue
        # the same items at the same urgencies announced twice send nothing new; a later rise is a new message
        key = ",".join(f"{s.work_item_id}:{s.urgency}" for s in sorted(subjects, key=lambda s: s.work_item_id or 0))
        # a rise is told at once whatever the new urgency; the rest follow the urgency (S+/S- at once, else digest)
        immediate = True if event == "finding.escalated" else None
        announce(event, subjects, dedupe=f"{event}:{dedupe_suffix}:{_digest(key)}", drill=is_drill, immediate=immediate)


def _digest(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()[:32]
