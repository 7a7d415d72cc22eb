"""Forms of the findings pages: the list's filters and the not-affected decision."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ismp.apps.accounts.models import Organisation
from ismp.apps.findings.choices import Confidence, FindingState, Justification
from ismp.apps.findings.decisions import MAX_NOTE
from ismp.apps.findings.queries import FINDING_ORDERS


def _with_all(choices: Any) -> list[tuple[str, Any]]:
    return [("", _("All")), *choices]


def _organisation_choices() -> list[tuple[str, str]]:
    return _with_all((o.code, f"{o.code} {o.name}") for o in Organisation.objects.order_by("code"))


class FindingFilterForm(forms.Form):
    """The findings list's search box, filters and ordering (all optional; bad values are ignored)."""

    q = forms.CharField(
        required=False,
        label=_("Search"),
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("CVE, system, component or criterion"), "autocomplete": "off"}
        ),
    )
    state = forms.ChoiceField(required=False, label=_("state"), choices=_with_all(FindingState.choices))
    confidence = forms.ChoiceField(required=False, label=_("confidence"), choices=_with_all(Confidence.choices))
    organisation = forms.ChoiceField(required=False, label=_("organisation"), choices=_organisation_choices)
    system = forms.CharField(required=False, label=_("system"), max_length=200)
    vuln = forms.CharField(required=False, label=_("vulnerability"), max_length=64)
    order = forms.ChoiceField(
        required=False, choices=[(o, o) for key in FINDING_ORDERS for o in (key, f"-{key}")], widget=forms.HiddenInput
    )

    FILTERS = ("state", "confidence", "organisation", "system", "vuln")

    def value(self, name: str) -> str:
        self.is_valid()
        return str(self.cleaned_data.get(name) or "")

    def query(self) -> dict[str, Any]:
        """Keyword arguments for ``queries.finding_list``."""
        return {
            "filters": {name: self.value(name) for name in (*self.FILTERS, "q")},
            "order": self.value("order") or "-last_seen",
        }


class NotAffectedForm(forms.Form):
    justification = forms.ChoiceField(label=_("justification"), choices=Justification.choices)
    note = forms.CharField(
        label=_("note"),
        max_length=MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What was checked, and where: the configuration, the build, the mitigation."),
    )
