"""The control baseline's versions, each system's control status and evidence, gate checks and exceptions."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ismp.apps.controls.choices import CONTROL_CHOICES, ExceptionState, Gate, Result, Status
from ismp.engines.controls import CONTROL_NAMES, Control


class Baseline(models.Model):
    """One version of the baseline (適用基準): system type → required controls. Versions are never edited;
    an edit saves the next version. With none saved, DESIGN.md's table (version 1) applies."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    requirements = models.JSONField(_("required controls per system type"))
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"control baseline v{self.version}"


class SystemControl(models.Model):
    """One control of one system: its status, the evidence for it, who checked it and until when the
    evidence holds (``review_by``; past it, the control shows as a gap)."""

    system = models.ForeignKey(
        "inventory.System", on_delete=models.CASCADE, related_name="controls", verbose_name=_("system"), db_index=False
    )
    control = models.CharField(_("control"), max_length=32, choices=CONTROL_CHOICES)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    reason = models.TextField(_("reason (required for not applicable)"), blank=True)
    evidence = models.TextField(_("evidence"), blank=True)
    reference = models.CharField(_("reference or URL"), max_length=500, blank=True)
    evidence_file = models.CharField(_("evidence file name"), max_length=255, blank=True)
    checked_by = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("checked by"),
        db_index=False,
    )
    checked_at = models.DateTimeField(_("checked at"), default=timezone.now)
    review_by = models.DateField(_("review by"), null=True, blank=True)

    class Meta:
        ordering = ["system_id", "control"]
        constraints = [models.UniqueConstraint(fields=["system", "control"], name="system_control_unique")]
        indexes = [models.Index(fields=["control", "status"])]

    def __str__(self) -> str:
        return f"{self.system_id} {self.control}: {self.status}"

    @property
    def control_name(self) -> str:
        english, japanese = CONTROL_NAMES[Control(self.control)]
        return f"{english} ({japanese})"


class GateCheck(models.Model):
    """One design review or pre-launch diagnosis of a system; the latest of each kind counts."""

    system = models.ForeignKey(
        "inventory.System", on_delete=models.CASCADE, related_name="gate_checks", verbose_name=_("system")
    )
    kind = models.CharField(_("check"), max_length=16, choices=Gate.choices)
    result = models.CharField(_("result"), max_length=8, choices=Result.choices)
    performed_on = models.DateField(_("performed on"))
    evidence = models.TextField(_("evidence"))
    reference = models.CharField(_("reference or URL"), max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("recorded by"),
        db_index=False,
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        ordering = ["system_id", "kind", "-performed_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.system_id} {self.kind} {self.result} {self.performed_on}"


class GateException(models.Model):
    """Leave to enter service without both checks passed: requested with a reason by the CSIRT or the
    system's administrator, approved or refused by the CISO, valid up to ``expires_on``."""

    system = models.ForeignKey(
        "inventory.System", on_delete=models.CASCADE, related_name="gate_exceptions", verbose_name=_("system")
    )
    reason = models.TextField(_("reason"))
    expires_on = models.DateField(_("expires on"))
    state = models.CharField(_("state"), max_length=10, choices=ExceptionState.choices, default=ExceptionState.PENDING)
    requested_by = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("requested by"),
        db_index=False,
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    decided_by = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("decided by"),
        db_index=False,
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["state", "expires_on"])]

    def __str__(self) -> str:
        return f"gate exception {self.pk} for system {self.system_id} ({self.state})"
