from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ismp.apps.findings.choices import Confidence, FindingState, Justification


class Finding(models.Model):
    """A vulnerability matched to a system through one of its components, with the evidence and how sure
    the match is. Low-confidence open findings are the CSIRT's "needs confirmation" queue."""

    # Indexes are few on purpose: a full match writes a million findings. The unique constraint serves
    # look-ups by system, the (vulnerability, state) index those by vulnerability.
    system = models.ForeignKey("inventory.System", on_delete=models.CASCADE, related_name="findings", db_index=False)
    vulnerability = models.ForeignKey(
        "vulns.Vulnerability", on_delete=models.CASCADE, related_name="findings", db_index=False
    )
    component = models.ForeignKey(
        "inventory.Component", null=True, blank=True, on_delete=models.SET_NULL, related_name="findings"
    )
    component_key = models.CharField(max_length=600)  # the component's identity when matched (CPE or purl)
    criterion = models.CharField(_("matched criterion"), max_length=600)
    confidence = models.CharField(_("confidence"), max_length=8, choices=Confidence.choices)
    reason = models.TextField(_("why this confidence"), blank=True)
    evidence = models.TextField(_("evidence"))
    state = models.CharField(_("state"), max_length=16, choices=FindingState.choices, default=FindingState.OPEN)
    closed_reason = models.CharField(_("closed because"), max_length=200, blank=True)
    first_seen = models.DateTimeField(_("first seen"), default=timezone.now)
    last_seen = models.DateTimeField(_("last seen"), default=timezone.now)
    # a "not affected" decision (VEX): why, in the VEX words and in the decider's own, by whom and when
    justification = models.CharField(_("justification"), max_length=64, choices=Justification.choices, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
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
    # a low-confidence match the CSIRT confirmed: from then on its system's administrators see it
    confirmed_by = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("confirmed by"),
        db_index=False,
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["system", "vulnerability", "component_key"], name="finding_unique")
        ]
        indexes = [models.Index(fields=["state", "confidence"]), models.Index(fields=["vulnerability", "state"])]

    def __str__(self) -> str:
        return f"{self.system_id} × {self.vulnerability_id} ({self.state})"

    @property
    def needs_confirmation(self) -> bool:
        """A low-confidence match the CSIRT has not confirmed: only the CSIRT's queue shows it."""
        return self.confidence == Confidence.LOW and self.confirmed_at is None


class MatchState(models.Model):
    """How far incremental matching has read the feeds' change events (one row)."""

    last_event = models.BigIntegerField(default=0)  # the id of the last ChangeEvent matched
    matched_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"matched up to change event {self.last_event}"
