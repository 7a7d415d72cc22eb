"""Forms of the work-item pages: the list's filters, one form per action, the urgency override and the
CSIRT's settings (urgency matrix, response policy).

Every action form carries the item's ``version`` as a hidden field: the service refuses the action with a
conflict when someone changed the item after the page was loaded. Forms only check shapes (a date is a
date); the state machine decides what is allowed and says why not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ismp.apps.accounts.models import Organisation
from ismp.apps.workflow.queries import WORK_ITEM_ORDERS
from ismp.engines import urgency as urgency_engine
from ismp.engines.workflow import MAX_TEXT, Action, Kind, State, Step

URGENCY_CHOICES = [(u, u) for u in urgency_engine.URGENCIES]
STATE_LABELS = {
    State.NEW: "未回答 (new)",
    State.APPLIED: "申請中 (applied)",
    State.NEEDED: "対策要 (needed)",
    State.PLANNED: "予定登録 (planned)",
    State.APPROVED: "予定承認 (approved)",
    State.DONE: "完了 (done)",
    State.NOT_NEEDED: "対策不要 (not needed)",
    State.EXCEPTION_REQUESTED: "リスク受容申請中 (exception requested)",
    State.ACCEPTED: "リスク受容 (accepted)",
    State.CLOSED: "クローズ (closed)",
}
KIND_LABELS = {Kind.SECURITY_INFO: "セキュリティ情報 (security information)", Kind.DIAGNOSIS: "診断結果 (diagnosis)"}
URGENCY_SLUGS = {"S+": "splus", "S-": "sminus", "A": "a", "B": "b"}
"""Form field names cannot carry "+": the policy form's fields are answer_splus, deadline_a and so on."""


def _with_all(choices: Any) -> list[tuple[str, Any]]:
    return [("", _("All")), *choices]


def _organisation_choices() -> list[tuple[str, str]]:
    return _with_all((o.code, f"{o.code} {o.name}") for o in Organisation.objects.order_by("code"))


class WorkItemFilterForm(forms.Form):
    """The work-item list's search box, filters and ordering (all optional; bad values are ignored)."""

    q = forms.CharField(
        required=False,
        label=_("Search"),
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("CVE, title or system"), "autocomplete": "off"}
        ),
    )
    state = forms.ChoiceField(
        required=False,
        label=_("state"),
        choices=_with_all([("open", "未完了 (open)"), *((s.value, label) for s, label in STATE_LABELS.items())]),
    )
    urgency = forms.ChoiceField(required=False, label=_("urgency (対応緊急度)"), choices=_with_all(URGENCY_CHOICES))
    risk_level = forms.ChoiceField(
        required=False,
        label=_("risk level (リスクレベル)"),
        choices=_with_all((str(level), str(level)) for level in range(5, 0, -1)),
    )
    kind = forms.ChoiceField(
        required=False, label=_("kind"), choices=_with_all((k.value, label) for k, label in KIND_LABELS.items())
    )
    drill = forms.CharField(required=False, widget=forms.HiddenInput)  # a drill's id, or "all"
    organisation = forms.ChoiceField(required=False, label=_("organisation"), choices=_organisation_choices)
    system = forms.CharField(required=False, label=_("system"), max_length=200)
    vuln = forms.CharField(required=False, label=_("vulnerability"), max_length=64)
    overdue = forms.BooleanField(required=False, label=_("overdue only (期限超過)"))
    order = forms.ChoiceField(
        required=False,
        choices=[(o, o) for key in WORK_ITEM_ORDERS for o in (key, f"-{key}")],
        widget=forms.HiddenInput,
    )

    FILTERS = ("state", "urgency", "risk_level", "kind", "organisation", "system", "vuln", "overdue", "drill")

    def value(self, name: str) -> str:
        self.is_valid()
        value = self.cleaned_data.get(name)
        if isinstance(value, bool):
            return "1" if value else ""
        return str(value or "")

    def query(self) -> dict[str, Any]:
        """Keyword arguments for ``queries.work_item_list``."""
        return {
            "filters": {name: self.value(name) for name in (*self.FILTERS, "q")},
            "order": self.value("order") or "due",
        }


# --------------------------------------------------------------------------------------------- actions


def _text(label: Any, *, required: bool = True, rows: int = 2, help_text: Any = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=MAX_TEXT,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


def _date(label: Any, *, required: bool = True) -> forms.DateField:
    return forms.DateField(label=label, required=required, widget=forms.DateInput(attrs={"type": "date"}))


def _moment(label: Any) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("Empty: now."),
    )


class StepForm(forms.Form):
    """One action on one work item. Subclasses add the action's fields; ``to_step`` builds the engine's
    Step from them."""

    action: Action
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", self.action.value)
        super().__init__(*args, **kwargs)

    @property
    def label(self) -> str:
        from ismp.engines.workflow import ACTION_LABELS

        return ACTION_LABELS[self.action]

    def to_step(self) -> Step:
        data = self.cleaned_data
        return Step(
            self.action,
            needed={"yes": True, "no": False}.get(data.get("needed") or ""),
            reason=data.get("reason") or "",
            planned_date=data.get("planned_date"),
            method=data.get("method") or "",
            evidence=data.get("evidence") or "",
            on=data.get("on"),
            until=data.get("until"),
            at=data.get("at"),
        )


class DecideForm(StepForm):
    action = Action.DECIDE
    needed = forms.ChoiceField(
        label=_("対策要否 (countermeasure needed?)"),
        choices=[("yes", "要 (needed)"), ("no", "不要 (not needed)")],
        widget=forms.RadioSelect,
    )
    reason = _text(
        _("reason (理由)"), required=False, help_text=_("Required for 不要, and for every diagnosis application.")
    )


class PlanForm(StepForm):
    action = Action.PLAN
    planned_date = _date(_("planned date (予定日)"))
    method = _text(_("method (対策方法)"), help_text=_("What will be done: the upgrade, the patch, the setting."))


class ApproveForm(StepForm):
    action = Action.APPROVE
    reason = _text(_("note"), required=False, rows=1)


class RejectForm(StepForm):
    action = Action.REJECT
    reason = _text(_("reason for sending it back (差戻し理由)"))


class CompleteForm(StepForm):
    action = Action.COMPLETE
    evidence = _text(_("evidence of completion (完了の根拠)"), help_text=_("The version now installed, the ticket."))
    on = _date(_("completed on (完了日)"), required=False)


class RequestExceptionForm(StepForm):
    action = Action.REQUEST_EXCEPTION
    reason = _text(_("why the risk is accepted (リスク受容理由)"))
    until = _date(_("until (期限)"))


class ApproveExceptionForm(StepForm):
    action = Action.APPROVE_EXCEPTION
    reason = _text(_("note"), required=False, rows=1)


class RejectExceptionForm(StepForm):
    action = Action.REJECT_EXCEPTION
    reason = _text(_("reason for refusing (却下理由)"))


class RecordStopForm(StepForm):
    action = Action.RECORD_STOP
    at = _moment(_("service stopped at (停止日時)"))


class RecordResumeForm(StepForm):
    action = Action.RECORD_RESUME
    at = _moment(_("service resumed at (再開日時)"))


class OrderStopForm(StepForm):
    action = Action.ORDER_STOP
    reason = _text(_("the order (停止指示)"), rows=2, help_text=_("What is to be stopped, and until when."))
    at = _moment(_("ordered at (指示日時)"))


class RecordNoStopGroundsForm(StepForm):
    action = Action.RECORD_NO_STOP_GROUNDS
    reason = _text(_("grounds for not stopping (継続理由)"), rows=3)


ACTION_FORMS: dict[Action, type[StepForm]] = {
    form.action: form
    for form in (
        DecideForm,
        PlanForm,
        ApproveForm,
        RejectForm,
        CompleteForm,
        RequestExceptionForm,
        ApproveExceptionForm,
        RejectExceptionForm,
        OrderStopForm,
        RecordStopForm,
        RecordResumeForm,
        RecordNoStopGroundsForm,
    )
}
"""The actions a person takes through the web; the others (close, reopen, expire, verify) are ISMP's."""


class UrgencyOverrideForm(forms.Form):
    """The CSIRT sets a work item's urgency by hand (or clears it back to the computed one), with a reason."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    urgency = forms.ChoiceField(
        label=_("urgency (対応緊急度)"),
        choices=[("", _("computed (clear the override)")), *URGENCY_CHOICES],
        required=False,
    )
    reason = _text(_("reason"), rows=2)


# -------------------------------------------------------------------------------------------- settings


class MatrixForm(forms.Form):
    """The urgency matrix, one choice per cell (attack possibility × risk level), and why it changes."""

    note = _text(_("why the matrix changes"), rows=2)

    def __init__(self, *args: Any, matrix: urgency_engine.Matrix, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cells = matrix.to_mapping()
        for possibility in urgency_engine.AttackPossibility:
            for level in urgency_engine.LEVELS:
                self.fields[self.cell_name(possibility.value, level)] = forms.ChoiceField(
                    label=f"{possibility.label_ja} / {level}",
                    choices=URGENCY_CHOICES,
                    initial=cells[possibility.value][str(level)],
                )
        self.order_fields([*self.cell_names(), "note"])

    @staticmethod
    def cell_name(possibility: str, level: int) -> str:
        return f"cell_{possibility}_{level}"

    def cell_names(self) -> list[str]:
        return [
            self.cell_name(p.value, level) for p in urgency_engine.AttackPossibility for level in urgency_engine.LEVELS
        ]

    def rows(self) -> list[tuple[urgency_engine.AttackPossibility, list[forms.BoundField]]]:
        """The matrix as the page lays it out: a row per attack possibility, a cell per risk level."""
        return [
            (p, [self[self.cell_name(p.value, level)] for level in urgency_engine.LEVELS])
            for p in urgency_engine.AttackPossibility
        ]

    def cells(self) -> dict[str, Mapping[int | str, str]]:
        return {
            p.value: {str(level): self.cleaned_data[self.cell_name(p.value, level)] for level in urgency_engine.LEVELS}
            for p in urgency_engine.AttackPossibility
        }


class PolicyForm(forms.Form):
    """Registration periods (登録期間) and final deadlines (完了期限) in days per urgency."""

    business_days = forms.BooleanField(label=_("count business days (weekends and 祝日 skipped)"), required=False)

    def __init__(self, *args: Any, answer_days: dict[str, int], deadline_days: dict[str, int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for urgency, slug in URGENCY_SLUGS.items():
            self.fields[f"answer_{slug}"] = forms.IntegerField(
                label=f"{urgency} 登録期間 (days)", min_value=1, max_value=365, initial=answer_days.get(urgency)
            )
            self.fields[f"deadline_{slug}"] = forms.IntegerField(
                label=f"{urgency} 完了期限 (days)", min_value=1, max_value=365, initial=deadline_days.get(urgency)
            )

    def rows(self) -> list[tuple[str, forms.BoundField, forms.BoundField]]:
        return [(u, self[f"answer_{s}"], self[f"deadline_{s}"]) for u, s in URGENCY_SLUGS.items()]

    def days(self, kind: str) -> dict[str, int]:
        return {urgency: self.cleaned_data[f"{kind}_{slug}"] for urgency, slug in URGENCY_SLUGS.items()}
