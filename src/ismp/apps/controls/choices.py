"""Choices of the controls app, labelled in English and Japanese; values come from the pure engine."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from ismp.engines.controls import CONTROL_NAMES, Control, ControlStatus, GapReason, GateKind, GateResult

CONTROL_CHOICES: list[tuple[str, str]] = [(c.value, f"{CONTROL_NAMES[c][0]} ({CONTROL_NAMES[c][1]})") for c in Control]
"""The controls of DESIGN.md's table in its order, labelled "English (日本語)"."""


class Status(models.TextChoices):
    IMPLEMENTED = ControlStatus.IMPLEMENTED.value, _("Implemented (実装済み)")
    PARTIAL = ControlStatus.PARTIAL.value, _("Partially implemented (一部実装)")
    MISSING = ControlStatus.MISSING.value, _("Missing (未実装)")
    NOT_APPLICABLE = ControlStatus.NOT_APPLICABLE.value, _("Not applicable (対象外)")


class Gate(models.TextChoices):
    DESIGN_REVIEW = GateKind.DESIGN_REVIEW.value, _("Design review (設計レビュー)")
    PRELAUNCH = GateKind.PRELAUNCH.value, _("Pre-launch diagnosis (リリース前診断)")


class Result(models.TextChoices):
    PASSED = GateResult.PASSED.value, _("Passed (合格)")
    FAILED = GateResult.FAILED.value, _("Failed (不合格)")


class ExceptionState(models.TextChoices):
    PENDING = "pending", _("Pending (承認待ち)")
    APPROVED = "approved", _("Approved (承認)")
    REFUSED = "refused", _("Refused (却下)")


GAP_LABELS = {
    GapReason.NOT_RECORDED: _("Not recorded (未登録)"),
    GapReason.MISSING: _("Missing (未実装)"),
    GapReason.PARTIAL: _("Partially implemented (一部実装)"),
    GapReason.STALE: _("Stale evidence (根拠の期限切れ)"),
}
"""How each kind of gap reads on the pages."""
