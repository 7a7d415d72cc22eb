"""The vulnerability search's filters: the web page's form, and the parser of the API's query parameters."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from ismp.apps.vulns.queries import DEFAULT_ORDER, VULN_ORDERS

ATTACK_VECTOR_CHOICES = [
    ("NETWORK", _("Network")),
    ("ADJACENT_NETWORK", _("Adjacent network")),
    ("LOCAL", _("Local")),
    ("PHYSICAL", _("Physical")),
]
RISK_LEVEL_CHOICES = [
    ("5", _("5 (highest)")),
    ("4", "4"),
    ("3", "3"),
    ("2", "2"),
    ("1", _("1 (lowest)")),
]
_YES_NO = {"true": True, "false": False}


def _with_all(choices: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return [("", _("All")), *choices]


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"})


class VulnFilterForm(forms.Form):
    """Search box, filters and ordering of the vulnerability search (all optional; bad values are ignored).
    The field names are the API's query parameters (``order`` is ``ordering`` there)."""

    search = forms.CharField(
        required=False,
        max_length=200,
        label=_("Search"),
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": _("CVE-…, JVNDB-…, PYSEC-… or words"),
                "autocomplete": "off",
            }
        ),
    )
    product = forms.CharField(
        required=False,
        max_length=200,
        label=_("product or vendor"),
        widget=forms.TextInput(attrs={"placeholder": "struts, apache:http_server", "autocomplete": "off"}),
    )
    cwe = forms.CharField(
        required=False,
        max_length=40,
        label=_("CWE"),
        widget=forms.TextInput(attrs={"placeholder": "CWE-79", "autocomplete": "off"}),
    )
    kev = forms.ChoiceField(
        required=False,
        label=_("CISA KEV"),
        choices=_with_all([("true", _("In KEV")), ("false", _("Not in KEV"))]),
    )
    exploit = forms.ChoiceField(
        required=False,
        label=_("exploit"),
        choices=_with_all([("true", _("Exploit available")), ("false", _("No exploit known"))]),
    )
    epss_min = forms.FloatField(
        required=False,
        min_value=0.0,
        max_value=1.0,
        label=_("EPSS at least"),
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "max": "1", "placeholder": "0.1"}),
    )
    risk_level = forms.ChoiceField(required=False, label=_("risk level"), choices=_with_all(RISK_LEVEL_CHOICES))
    attack_vector = forms.ChoiceField(
        required=False, label=_("attack vector"), choices=_with_all(ATTACK_VECTOR_CHOICES)
    )
    published_from = forms.DateField(required=False, label=_("published from"), widget=_date_input())
    published_to = forms.DateField(required=False, label=_("published to"), widget=_date_input())
    order = forms.ChoiceField(
        required=False, choices=[(o, o) for key in VULN_ORDERS for o in (key, f"-{key}")], widget=forms.HiddenInput
    )

    # the filters shown beside the search box, in this order
    FILTERS = (
        "product",
        "cwe",
        "kev",
        "exploit",
        "epss_min",
        "risk_level",
        "attack_vector",
        "published_from",
        "published_to",
    )

    @classmethod
    def from_api(cls, params: QueryDict) -> VulnFilterForm:
        """The form for the API's query parameters, where the ordering is called ``ordering``."""
        data = params.copy()
        data["order"] = params.get("ordering", "")
        return cls(data)

    def value(self, name: str) -> Any:
        """A cleaned value, or None when that field is empty or invalid (an invalid value filters nothing)."""
        self.is_valid()
        value = self.cleaned_data.get(name)
        return None if value in (None, "") else value

    def query(self) -> dict[str, Any]:
        """Keyword arguments for ``queries.vulnerability_list``."""
        risk_level = self.value("risk_level")
        return {
            "search": (self.value("search") or "").strip(),
            "product": self.value("product") or "",
            "cwe": self.value("cwe") or "",
            "kev": _YES_NO.get(self.value("kev") or ""),
            "exploit": _YES_NO.get(self.value("exploit") or ""),
            "epss_min": self.value("epss_min"),
            "risk_level": int(risk_level) if risk_level else None,
            "attack_vector": self.value("attack_vector") or "",
            "published_from": self.value("published_from"),
            "published_to": self.value("published_to"),
            "order": self.value("order") or DEFAULT_ORDER,
        }
