"""Forms of the inventory's web pages. They validate and show errors per field; saving is the services' job."""

from __future__ import annotations

import copy
from typing import Any, cast

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _

from ismp.apps.accounts.models import Organisation, User
from ismp.apps.inventory.choices import Criticality, Lifecycle, SystemType
from ismp.apps.inventory.models import Component, System
from ismp.apps.inventory.queries import SYSTEM_ORDERS
from ismp.apps.inventory.services import EDITABLE_SYSTEM_FIELDS, SYSTEM_FIELDS


class LineListField(forms.Field):
    """A list of strings edited as a textarea, one value per line. The model field's validators check the
    values, so an invalid address or URL is reported on this field."""

    widget = forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "class": "mono"})

    def to_python(self, value: Any) -> list[str]:
        if isinstance(value, list):
            return value
        return [line.strip() for line in str(value or "").splitlines() if line.strip()]

    def prepare_value(self, value: Any) -> str:
        if isinstance(value, list):
            return "\n".join(str(v) for v in value)
        return str(value or "")


class OrganisationChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Organisation) -> str:
        return f"{obj.code} — {obj.name}"


class _ValidatesACopy(forms.ModelForm):  # type: ignore[type-arg]
    """Validation writes the posted values into ``instance``. The form works on a copy so that the object
    handed to the service still holds what is stored, and the audit trail records the real "before"."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("instance") is not None:
            kwargs["instance"] = copy.copy(kwargs["instance"])
        super().__init__(*args, **kwargs)


def _active_users() -> models.QuerySet[User]:
    return User.objects.filter(is_active=True).order_by("username")


class SystemForm(_ValidatesACopy):
    organisation = OrganisationChoiceField(queryset=Organisation.objects.order_by("code"), label=_("organisation"))
    service_owner = forms.ModelChoiceField(queryset=_active_users(), required=False, label=_("service owner"))
    administrators = forms.ModelMultipleChoiceField(
        queryset=_active_users(),
        required=False,
        label=_("administrators"),
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_(
            "The system administrators (システム管理者) who maintain this system and receive its "
            "notifications. Hold Ctrl (⌘ on a Mac) to choose several."
        ),
    )
    addresses = LineListField(
        required=False, label=_("IP addresses and CIDRs"), help_text=_("One per line, e.g. 192.0.2.10 or 10.1.0.0/16.")
    )
    fqdns = LineListField(required=False, label=_("FQDNs"), help_text=_("One per line, e.g. www.example.jp."))
    urls = LineListField(required=False, label=_("URLs"), help_text=_("One per line, e.g. https://www.example.jp/."))

    class Meta:
        model = System
        fields = list(EDITABLE_SYSTEM_FIELDS)
        widgets = {
            "purpose": forms.Textarea(attrs={"rows": 3}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def system_data(self) -> dict[str, Any]:
        """The validated values in the shape ``services.save_system`` takes."""
        return {name: self.cleaned_data[name] for name in SYSTEM_FIELDS if name in self.cleaned_data}

    def administrators_data(self) -> list[User]:
        return list(self.cleaned_data.get("administrators") or [])


class ComponentForm(_ValidatesACopy):
    class Meta:
        model = Component
        fields = ["cpe", "purl", "part", "vendor", "product", "version"]
        widgets = {
            "cpe": forms.TextInput(
                attrs={
                    "class": "mono",
                    "spellcheck": "false",
                    "placeholder": "cpe:2.3:a:apache:http_server:2.4.62:*:*:*:*:*:*:*",
                }
            ),
            "purl": forms.TextInput(
                attrs={
                    "class": "mono",
                    "spellcheck": "false",
                    "placeholder": "pkg:maven/org.apache.struts/struts2-core@6.3.0",
                }
            ),
        }
        help_texts = {
            "cpe": _("CPE 2.3 formatted string; vendor, product and version are taken from it when left empty."),
            "purl": _("Package URL, e.g. from an SBOM."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # the product may come from the CPE or the package URL; the service derives it
        self.fields["product"].required = False

    def component_data(self) -> dict[str, str]:
        return {name: self.cleaned_data.get(name) or "" for name in self.Meta.fields}


def _with_all(choices: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return [("", _("All")), *choices]


def _organisation_choices() -> list[tuple[str, Any]]:
    return _with_all(
        [(code, f"{code} — {name}") for code, name in Organisation.objects.order_by("code").values_list("code", "name")]
    )


class SystemFilterForm(forms.Form):
    """The systems list's search box, filters and ordering (all optional; bad values are ignored)."""

    q = forms.CharField(
        required=False,
        label=_("Search"),
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": _("Name, purpose, FQDN, address or product"),
                "autocomplete": "off",
            }
        ),
    )
    organisation = forms.ChoiceField(required=False, label=_("organisation"), choices=_organisation_choices)
    system_type = forms.ChoiceField(required=False, label=_("system type"), choices=_with_all(SystemType.choices))
    lifecycle = forms.ChoiceField(required=False, label=_("lifecycle"), choices=_with_all(Lifecycle.choices))
    criticality = forms.ChoiceField(required=False, label=_("criticality"), choices=_with_all(Criticality.choices))
    order = forms.ChoiceField(
        required=False, choices=[(o, o) for key in SYSTEM_ORDERS for o in (key, f"-{key}")], widget=forms.HiddenInput
    )

    FILTERS = ("organisation", "system_type", "lifecycle", "criticality")

    def value(self, name: str) -> str:
        """A cleaned value, or "" when that field is invalid (an unknown choice filters nothing)."""
        self.is_valid()
        return str(self.cleaned_data.get(name) or "")

    def query(self) -> dict[str, Any]:
        """Keyword arguments for ``queries.system_list``."""
        return {
            "search": self.value("q").strip(),
            "filters": {name: self.value(name) for name in self.FILTERS},
            "order": self.value("order") or "name",
        }


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("A ledger (CSV or XLSX, one row per system and component) or an SBOM (CycloneDX or SPDX, JSON)."),
    )
    system = forms.ModelChoiceField(
        queryset=System.objects.none(),
        required=False,
        to_field_name="name",
        label=_("system"),
        help_text=_("For an SBOM: the system whose software it lists. Leave empty for a ledger."),
    )

    def __init__(self, *args: Any, systems: models.QuerySet[System], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast("forms.ModelChoiceField[System]", self.fields["system"])
        field.queryset = systems.only("pk", "name").order_by("name")
