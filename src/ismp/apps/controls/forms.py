"""Forms of the controls pages: a control's status, a gate check, an exception request and decision, the
baseline editor. They only check shapes; the services decide who may and what is valid."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ismp.apps.controls.choices import CONTROL_CHOICES, Gate, Result, Status
from ismp.apps.controls.services import MAX_TEXT
from ismp.engines.controls import SYSTEM_TYPES, Baseline, Control

DATE = forms.DateInput(attrs={"type": "date"})


class ControlStatusForm(forms.Form):
    control = forms.ChoiceField(label=_("control"), choices=CONTROL_CHOICES)
    status = forms.ChoiceField(label=_("status"), choices=Status.choices)
    reason = forms.CharField(
        label=_("reason"),
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required for not applicable (対象外): why the baseline's requirement does not hold here."),
    )
    evidence = forms.CharField(
        label=_("evidence (根拠)"), required=False, max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 2})
    )
    reference = forms.CharField(label=_("reference or URL"), required=False, max_length=500)
    evidence_file = forms.CharField(label=_("evidence file name"), required=False, max_length=255)
    review_by = forms.DateField(
        label=_("review by (見直し期限)"),
        required=False,
        widget=DATE,
        help_text=_("After this date the evidence is stale and the control shows as a gap."),
    )


class GateCheckForm(forms.Form):
    kind = forms.ChoiceField(label=_("check"), choices=Gate.choices)
    result = forms.ChoiceField(label=_("result"), choices=Result.choices)
    performed_on = forms.DateField(label=_("performed on"), required=False, widget=DATE)
    evidence = forms.CharField(
        label=_("evidence (根拠)"), max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 2})
    )
    reference = forms.CharField(label=_("reference or URL"), required=False, max_length=500)


class ExceptionRequestForm(forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 2}))
    expires_on = forms.DateField(label=_("expires on (有効期限)"), widget=DATE)


class ExceptionDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Approve (承認)")), ("refuse", _("Refuse (却下)"))])
    note = forms.CharField(label=_("note"), required=False, max_length=MAX_TEXT)


class BaselineForm(forms.Form):
    """One checkbox per (system type, control), named ``<type>:<control>``."""

    note = forms.CharField(label=_("note (why the change)"), required=False, max_length=MAX_TEXT)

    def __init__(self, *args: Any, baseline: Baseline, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for system_type in SYSTEM_TYPES:
            for control in Control:
                self.fields[f"{system_type}:{control.value}"] = forms.BooleanField(
                    required=False, initial=control in baseline.required(system_type)
                )

    def requirements(self) -> dict[str, list[str]]:
        return {t: [c.value for c in Control if self.cleaned_data.get(f"{t}:{c.value}")] for t in SYSTEM_TYPES}
