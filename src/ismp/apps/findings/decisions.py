"""What people decide about findings: the only code besides the matcher (``services.py``) that writes them.

- **not affected** (VEX): the finding does not affect the system, with a VEX justification and a note in
  the decider's own words. The CSIRT decides on any finding, a system administrator on the findings of the
  systems they administer. The matcher keeps the decision as long as the component stays the same; a new
  version is a new finding to decide on.
- **reopen**: undo a "not affected" decision (same people); the finding is open again.
- **confirm**: the CSIRT confirms a low-confidence match; from then on the system's administrators see it.

Each call is one transaction with an audit entry holding the finding before and after. A refusal says why:
``Forbidden`` for the wrong role or system, ``InputError`` (naming the field) for a missing or bad value
or a finding in the wrong state.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from ismp.apps.audit import services as audit
from ismp.apps.audit.models import AuditAction
from ismp.apps.audit.services import Actor
from ismp.apps.findings.choices import Confidence, FindingState, Justification
from ismp.apps.findings.models import Finding
from ismp.apps.findings.queries import can_confirm, can_decide
from ismp.apps.findings.signals import findings_changed
from ismp.errors import Forbidden, InputError

MAX_NOTE = 4000


def mark_not_affected(actor: Actor, finding: Finding, *, justification: str, note: str) -> Finding:
    """Record that ``finding`` does not affect its system, why (a VEX justification) and in whose words."""
    justification = (justification or "").strip()
    if justification not in Justification.values:
        raise InputError(
            f"justification {justification!r} is not one of {', '.join(Justification.values)}", field="justification"
        )
    note = (note or "").strip()
    if not note:
        raise InputError("say in a note why the system is not affected (what was checked, where)", field="note")
    if len(note) > MAX_NOTE:
        raise InputError(f"the note has {len(note)} characters; at most {MAX_NOTE} are kept", field="note")
    with transaction.atomic():
        finding = _locked(finding)
        _check_decider(actor, finding)
        if finding.state != FindingState.OPEN:
            raise InputError(
                f"finding {finding.pk} is {finding.state}: only an open finding can be marked not affected",
                field="state",
            )
        before = audit.snapshot(finding)
        finding.state = FindingState.NOT_AFFECTED
        finding.justification = justification
        finding.decision_note = note
        finding.decided_by = actor.user
        finding.decided_at = timezone.now()
        finding.save(update_fields=["state", "justification", "decision_note", "decided_by", "decided_at"])
        audit.record(actor, AuditAction.UPDATE, finding, before, audit.snapshot(finding))
        findings_changed.send(sender=Finding, pairs={(finding.system_id, finding.vulnerability_id)})
    return finding


def reopen(actor: Actor, finding: Finding) -> Finding:
    """Undo a "not affected" decision: the finding is open again and the decision's fields are cleared
    (the audit trail keeps them)."""
    with transaction.atomic():
        finding = _locked(finding)
        _check_decider(actor, finding)
        if finding.state != FindingState.NOT_AFFECTED:
            raise InputError(
                f"finding {finding.pk} is {finding.state}: only a finding marked not affected can be reopened",
                field="state",
            )
        before = audit.snapshot(finding)
        finding.state = FindingState.OPEN
        finding.justification = ""
        finding.decision_note = ""
        finding.decided_by = None
        finding.decided_at = None
        finding.save(update_fields=["state", "justification", "decision_note", "decided_by", "decided_at"])
        audit.record(actor, AuditAction.UPDATE, finding, before, audit.snapshot(finding))
        findings_changed.send(sender=Finding, pairs={(finding.system_id, finding.vulnerability_id)})
    return finding


def confirm(actor: Actor, finding: Finding) -> Finding:
    """The CSIRT confirms a low-confidence match: it stays open and its system's administrators see it."""
    if actor.user is not None and not can_confirm(actor.user):
        raise Forbidden("only the CSIRT confirms low-confidence matches")
    with transaction.atomic():
        finding = _locked(finding)
        if finding.confidence != Confidence.LOW:
            raise InputError(
                f"finding {finding.pk} has {finding.confidence} confidence: only low-confidence matches are confirmed",
                field="confidence",
            )
        if finding.confirmed_at is not None:
            raise InputError(f"finding {finding.pk} is already confirmed", field="confirmed_at")
        if finding.state != FindingState.OPEN:
            raise InputError(
                f"finding {finding.pk} is {finding.state}: only an open finding is confirmed", field="state"
            )
        before = audit.snapshot(finding)
        finding.confirmed_by = actor.user
        finding.confirmed_at = timezone.now()
        finding.save(update_fields=["confirmed_by", "confirmed_at"])
        audit.record(actor, AuditAction.UPDATE, finding, before, audit.snapshot(finding))
        findings_changed.send(sender=Finding, pairs={(finding.system_id, finding.vulnerability_id)})
    return finding


def _locked(finding: Finding) -> Finding:
    """The finding as it is now in the database, locked until the transaction ends."""
    return Finding.objects.select_for_update().select_related("system").get(pk=finding.pk)


def _check_decider(actor: Actor, finding: Finding) -> None:
    if actor.user is None or can_decide(actor.user, finding):
        return
    if finding.needs_confirmation:
        raise Forbidden(f"finding {finding.pk} is a low-confidence match awaiting the CSIRT's confirmation")
    raise Forbidden(
        f"you may not decide on findings of the system {finding.system.name!r}: "
        "the CSIRT or the system's administrators decide"
    )
