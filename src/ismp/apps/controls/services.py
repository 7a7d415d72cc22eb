"""Use cases that change controls: one transaction each, audited through ``audit.services``.

- ``set_control``: a system's status and evidence for one control;
- ``save_baseline``: the CSIRT saves the next version of the baseline;
- ``record_gate_check``: a design review or pre-launch diagnosis with its result;
- ``request_exception`` / ``decide_exception``: leave to enter service without both checks, approved or
  refused by the CISO;
- ``launch_refusals`` / ``require_launch_ready``: the gate itself, called by the inventory wherever a
  system's lifecycle is saved.

A refusal says why: ``Forbidden`` for the wrong role or system, ``InputError`` naming the field otherwise.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

from django.db import transaction
from django.utils import timezone

from ismp.apps.accounts.choices import Role
from ismp.apps.audit import services as audit
from ismp.apps.audit.models import AuditAction
from ismp.apps.audit.services import Actor
from ismp.apps.controls import queries
from ismp.apps.controls.choices import ExceptionState, Gate, Result, Status
from ismp.apps.controls.models import Baseline, GateCheck, GateException, SystemControl
from ismp.apps.inventory.choices import Lifecycle
from ismp.apps.inventory.models import System
from ismp.engines.controls import Control, launch_blockers, make_baseline, refusal
from ismp.errors import Forbidden, InputError

MAX_TEXT = 4000


def _text(value: str | None, field: str, *, required: str = "", limit: int = MAX_TEXT) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InputError(required, field=field)
    if len(value) > limit:
        raise InputError(f"{field} has {len(value)} characters; at most {limit} are kept", field=field)
    return value


def _allowed(actor: Actor, allowed: bool, message: str) -> None:
    if actor.user is not None and not allowed:
        raise Forbidden(message)


# ------------------------------------------------------------------------------------------ controls


def set_control(
    actor: Actor,
    system: System,
    control: str,
    status: str,
    *,
    reason: str = "",
    evidence: str = "",
    reference: str = "",
    evidence_file: str = "",
    review_by: dt.date | None = None,
) -> SystemControl:
    """Record a control's status on a system with its evidence; whoever sets it is recorded as having
    checked it, now. Not applicable needs a reason (why the baseline's requirement does not hold here)."""
    _allowed(actor, queries.can_set_controls(actor.user, system), f"you may not change the controls of {system.name}")
    if control not in {c.value for c in Control}:
        raise InputError(f"unknown control {control!r}; expected one of {', '.join(Control)}", field="control")
    if status not in Status.values:
        raise InputError(f"unknown status {status!r}; expected one of {', '.join(Status.values)}", field="status")
    reason = _text(
        reason,
        "reason",
        required="say why the control does not apply to this system" if status == Status.NOT_APPLICABLE else "",
    )
    values = {
        "status": status,
        "reason": reason,
        "evidence": _text(evidence, "evidence"),
        "reference": _text(reference, "reference", limit=500),
        "evidence_file": _text(evidence_file, "evidence_file", limit=255),
        "review_by": review_by,
        "checked_by": actor.user,
        "checked_at": timezone.now(),
    }
    with transaction.atomic():
        current = SystemControl.objects.select_for_update().filter(system=system, control=control).first()
        before = audit.snapshot(current) if current is not None else None
        if current is None:
            current = SystemControl(system=system, control=control)
        for name, value in values.items():
            setattr(current, name, value)
        current.save()
        audit.record(
            actor,
            AuditAction.CREATE if before is None else AuditAction.UPDATE,
            current,
            before,
            audit.snapshot(current),
        )
    return current


# ------------------------------------------------------------------------------------------ baseline


def save_baseline(actor: Actor, requirements: Mapping[str, Iterable[str]], *, note: str = "") -> Baseline:
    """Save the next version of the baseline (the CSIRT only). The previous version stays as it was; the
    audit entry holds both."""
    _allowed(actor, queries.can_edit_baseline(actor.user), "only the CSIRT edits the control baseline")
    with transaction.atomic():
        previous = queries.current_baseline()
        try:
            rules = make_baseline(previous.version + 1, requirements)
        except ValueError as exc:
            raise InputError(str(exc), field="requirements") from None
        if rules.as_dict() == previous.as_dict():
            raise InputError("the baseline is unchanged; nothing was saved", field="requirements")
        row = Baseline.objects.create(
            version=rules.version,
            requirements=rules.as_dict(),
            note=_text(note, "note"),
            created_by=actor.user,
        )
        before = {"version": previous.version, "requirements": previous.as_dict()}
        audit.record(actor, AuditAction.CREATE, row, before, audit.snapshot(row))
    return row


# ------------------------------------------------------------------------------------------ gates


def record_gate_check(
    actor: Actor,
    system: System,
    kind: str,
    result: str,
    *,
    evidence: str,
    reference: str = "",
    performed_on: dt.date | None = None,
) -> GateCheck:
    """Record a design review (設計レビュー) or pre-launch diagnosis (リリース前診断) and its result."""
    _allowed(
        actor,
        queries.can_record_gate(actor.user, system),
        f"only the CSIRT or the service owner of {system.name} records its pre-launch checks",
    )
    if kind not in Gate.values:
        raise InputError(f"unknown check {kind!r}; expected one of {', '.join(Gate.values)}", field="kind")
    if result not in Result.values:
        raise InputError(f"unknown result {result!r}; expected one of {', '.join(Result.values)}", field="result")
    performed_on = performed_on or queries.today()
    if performed_on > queries.today():
        raise InputError(f"the check cannot be performed in the future ({performed_on})", field="performed_on")
    with transaction.atomic():
        check = GateCheck.objects.create(
            system=system,
            kind=kind,
            result=result,
            performed_on=performed_on,
            evidence=_text(evidence, "evidence", required="say what was checked and where the report is"),
            reference=_text(reference, "reference", limit=500),
            recorded_by=actor.user,
        )
        audit.record(actor, AuditAction.CREATE, check, None, audit.snapshot(check))
    return check


def request_exception(actor: Actor, system: System, *, reason: str, expires_on: dt.date) -> GateException:
    """Ask the CISO to let ``system`` enter service without both checks passed, up to ``expires_on``."""
    _allowed(
        actor,
        queries.can_request_exception(actor.user, system),
        f"only the CSIRT or an administrator of {system.name} requests a gate exception",
    )
    if expires_on < queries.today():
        raise InputError(f"the exception would already have expired ({expires_on})", field="expires_on")
    with transaction.atomic():
        exception = GateException.objects.create(
            system=system,
            reason=_text(reason, "reason", required="say why the system must start before its checks pass"),
            expires_on=expires_on,
            requested_by=actor.user,
        )
        audit.record(actor, AuditAction.CREATE, exception, None, audit.snapshot(exception))
    return exception


def decide_exception(actor: Actor, exception: GateException, *, approve: bool, note: str = "") -> GateException:
    """The CISO approves or refuses a pending exception. A refusal needs a note; an expired request can only
    be refused."""
    _allowed(actor, queries.can_decide_exception(actor.user), "only the CISO approves or refuses gate exceptions")
    with transaction.atomic():
        exception = GateException.objects.select_for_update().get(pk=exception.pk)
        if exception.state != ExceptionState.PENDING:
            raise InputError(f"exception {exception.pk} was already {exception.state}", field="state")
        if approve and exception.expires_on < queries.today():
            raise InputError(
                f"exception {exception.pk} expired on {exception.expires_on}; ask for a new one", field="expires_on"
            )
        before = audit.snapshot(exception)
        exception.state = ExceptionState.APPROVED if approve else ExceptionState.REFUSED
        exception.decided_by = actor.user
        exception.decided_at = timezone.now()
        exception.decision_note = _text(note, "note", required="" if approve else "say why the exception is refused")
        exception.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
        audit.record(actor, AuditAction.UPDATE, exception, before, audit.snapshot(exception))
    return exception


# ------------------------------------------------------------------------- the gate, for the inventory


def may_register_running(actor: Actor) -> bool:
    """Who may register a new system directly as in service: the operator (imports, the demo) and the
    CSIRT, who take over systems that already run from the old ledgers. Anyone else registers a system as
    planned or in development and puts it in service once its checks have passed."""
    return actor.user is None or actor.user.role == Role.CSIRT


def launch_refusals(actor: Actor, systems: Sequence[System], *, day: dt.date | None = None) -> dict[str, str]:
    """Why each of ``systems`` (about to be saved) may not enter service, by system name. Only a system set
    to in service whose stored lifecycle is another one — or a new system — is checked; systems already in
    service stay as they are. The stored lifecycle is read from the database, not from the instance, which
    the caller has already changed. Three queries whatever the number of systems."""
    candidates = [s for s in systems if s.lifecycle == Lifecycle.IN_SERVICE]
    stored = dict(
        System.objects.filter(pk__in=[s.pk for s in candidates if s.pk is not None]).values_list("pk", "lifecycle")
    )
    refusals: dict[str, str] = {}
    existing = []
    for system in candidates:
        if system.pk in stored:
            if stored[system.pk] != Lifecycle.IN_SERVICE:
                existing.append(system)
        elif not may_register_running(actor):
            refusals[system.name] = refusal(
                system.name,
                [
                    "a new system is registered as planned or in development; record its design review and "
                    "pre-launch diagnosis, then put it in service"
                ],
            )
    if existing:
        day = day or queries.today()
        states = queries.gate_states([s.pk for s in existing], day=day)
        for system in existing:
            blockers = launch_blockers(states[system.pk], day)
            if blockers:
                refusals[system.name] = refusal(system.name, blockers)
    return {s.name: refusals[s.name] for s in systems if s.name in refusals}  # in the caller's order


def require_launch_ready(actor: Actor, system: System) -> None:
    """Raise ``InputError`` on the lifecycle field when ``system``, about to be saved, may not enter service."""
    refused = launch_refusals(actor, [system])
    if refused:
        raise InputError(refused[system.name], field="lifecycle")
