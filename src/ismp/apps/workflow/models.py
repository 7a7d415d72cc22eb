from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ismp.engines.urgency import URGENCIES
from ismp.engines.workflow import Kind, State

URGENCY_CHOICES = [(value, value) for value in URGENCIES]


class UrgencyMatrix(models.Model):
    """A version of the urgency matrix (risk level × attack possibility). The newest row is in force; an
    edit adds a row (audited), so every urgency names the version it was decided under."""

    version = models.CharField(_("version"), max_length=64, unique=True)
    cells = models.JSONField(_("cells"))  # Matrix.to_mapping()
    # CVSS base score → risk level: [[minimum score, level], …] highest first; empty: DESIGN.md's defaults
    thresholds = models.JSONField(_("risk-level thresholds"), default=list, blank=True)
    note = models.TextField(_("why it changed"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("urgency matrix")

    def __str__(self) -> str:
        return self.version


class ResponsePolicy(models.Model):
    """Registration periods and deadlines by urgency, and whether they count business days (weekends and
    Japanese holidays skipped). The newest row is in force; an edit adds a row (audited)."""

    answer_days = models.JSONField(_("registration period, days (登録期間)"))
    deadline_days = models.JSONField(_("deadline, days (完了期限)"))
    business_days = models.BooleanField(_("count business days (Japanese calendar)"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"answer {self.answer_days}, deadline {self.deadline_days}"


class VulnerabilityUrgency(models.Model):
    """The urgency (対応緊急度) a vulnerability's inputs give under the matrix in force, with its explanation.
    The same for every system; a work item may carry an analyst's override on top."""

    vulnerability = models.OneToOneField(
        "vulns.Vulnerability", on_delete=models.CASCADE, primary_key=True, related_name="urgency"
    )
    value = models.CharField(_("urgency"), max_length=2, choices=URGENCY_CHOICES)
    level = models.PositiveSmallIntegerField(_("risk level"))
    possibility = models.CharField(_("attack possibility"), max_length=16)
    explanation = models.TextField(_("explanation"))
    matrix_version = models.CharField(max_length=64)
    computed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.vulnerability_id}: {self.value}"


class UrgencyState(models.Model):
    """How far urgency recomputation has read the feeds' change events (one row)."""

    last_event = models.BigIntegerField(default=0)
    computed_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"urgency computed up to change event {self.last_event}"


class Drill(models.Model):
    """A response drill (対応訓練): a simulated vulnerability sent to chosen systems' administrators. Its work
    items and notifications are marked as a drill and kept out of the bottom line."""

    name = models.CharField(_("name"), max_length=200)
    vuln_title = models.CharField(_("simulated vulnerability"), max_length=300)
    description = models.TextField(_("scenario"), blank=True)
    urgency = models.CharField(_("urgency"), max_length=2, choices=URGENCY_CHOICES)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = _("response drill")

    def __str__(self) -> str:
        return self.name


class WorkItem(models.Model):
    """One thing a system's administrators must answer and carry out: a vulnerability matched to the system
    (security information) or one found by a scan (diagnosis result). States and transitions are
    ``ismp.engines.workflow``; ``version`` makes concurrent updates fail instead of overwriting each other."""

    kind = models.CharField(_("kind"), max_length=16, choices=[(k.value, k.value) for k in Kind])
    system = models.ForeignKey(
        "inventory.System", on_delete=models.CASCADE, related_name="work_items", verbose_name=_("system")
    )
    vulnerability = models.ForeignKey(
        "vulns.Vulnerability",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="work_items",
        verbose_name=_("vulnerability"),
        db_index=False,
    )
    title = models.CharField(_("title"), max_length=300, blank=True)  # a diagnosis result's or drill's title
    drill = models.ForeignKey(
        Drill, null=True, blank=True, on_delete=models.CASCADE, related_name="work_items", verbose_name=_("drill")
    )  # set on a drill's items only: every real count excludes them
    state = models.CharField(_("state"), max_length=24, choices=[(s.value, s.value) for s in State], default="new")
    urgency = models.CharField(_("urgency"), max_length=2, choices=URGENCY_CHOICES)
    urgency_explanation = models.TextField(_("why this urgency"), blank=True)
    urgency_override = models.CharField(_("analyst's urgency"), max_length=2, blank=True, choices=URGENCY_CHOICES)
    urgency_override_reason = models.TextField(_("why the analyst set it"), blank=True)
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    answer_due = models.DateTimeField(_("registration period ends (登録期限)"))
    due = models.DateTimeField(_("deadline (完了期限)"))
    answered_at = models.DateTimeField(_("first answered"), null=True, blank=True)
    needed = models.BooleanField(_("countermeasure needed (対策要否)"), null=True, blank=True)
    decision_reason = models.TextField(_("reason"), blank=True)
    planned_date = models.DateField(_("planned date (予定日)"), null=True, blank=True)
    method = models.TextField(_("method (対策方法)"), blank=True)
    evidence = models.TextField(_("evidence of completion"), blank=True)
    completed_on = models.DateField(_("completed on (完了日)"), null=True, blank=True)
    verified_at = models.DateTimeField(_("verified by a rescan"), null=True, blank=True)
    stop_ordered_at = models.DateTimeField(_("service stop ordered (停止指示)"), null=True, blank=True)
    stop_order = models.TextField(_("the stop order"), blank=True)
    service_stopped_at = models.DateTimeField(_("service stopped"), null=True, blank=True)
    service_resumed_at = models.DateTimeField(_("service resumed"), null=True, blank=True)
    no_stop_grounds = models.TextField(_("grounds for not stopping (S-)"), blank=True)
    exception_reason = models.TextField(_("exception reason"), blank=True)
    exception_until = models.DateField(_("exception until"), null=True, blank=True)
    resume_state = models.CharField(max_length=24, blank=True)
    closed_reason = models.CharField(_("closed because"), max_length=300, blank=True)
    last_note = models.TextField(_("last note"), blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)  # last registration-period reminder
    escalated_at = models.DateTimeField(null=True, blank=True)  # last overdue escalation
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["due", "pk"]
        verbose_name = _("work item")
        constraints = [
            models.UniqueConstraint(
                fields=["system", "vulnerability", "kind"],
                condition=models.Q(vulnerability__isnull=False),
                name="workitem_one_per_system_vulnerability",
            )
        ]
        indexes = [
            models.Index(fields=["vulnerability", "state"]),
            models.Index(fields=["state", "urgency"]),
            models.Index(fields=["state", "due"]),
            # the dashboard: per-system live counts, and the weekly opened / completed trend
            models.Index(fields=["system", "state", "urgency"]),
            models.Index(fields=["opened_at"]),
            models.Index(fields=["completed_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.system_id} × {self.vulnerability_id or self.title} ({self.state})"

    @property
    def subject(self) -> str:
        return self.vulnerability.vuln_id if self.vulnerability_id and self.vulnerability else self.title


class WorkItemEvent(models.Model):
    """What happened to a work item, by whom and when: the emergency board's "who answered when" and the
    item's history (the audit trail holds the full before/after)."""

    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_label = models.CharField(max_length=150)
    action = models.CharField(max_length=32)
    from_state = models.CharField(max_length=24, blank=True)
    to_state = models.CharField(max_length=24, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.item_id} {self.action} by {self.actor_label}"
