"""Forms of the notification pages: the inbox's preferences, the CSIRT's alert and webhook forms."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from django import forms
from django.utils.translation import gettext_lazy as _

from ismp.apps.accounts.models import Organisation
from ismp.apps.inventory.queries import systems_for
from ismp.apps.notifications import events
from ismp.apps.notifications.choices import Language, PayloadFormat
from ismp.engines.notify import URGENCY_ORDER

URGENCY_CHOICES = [(u, u) for u in URGENCY_ORDER]


class PreferenceForm(forms.Form):
    language = forms.ChoiceField(label=_("Language of notifications"), choices=Language.choices)
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=lambda: [(z, z) for z in sorted(available_timezones())])


class AlertForm(forms.Form):
    """警報配信: to the administrators of the chosen systems and of every system of the chosen organisations."""

    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(label=_("Body"), widget=forms.Textarea(attrs={"rows": 8}), max_length=20000)
    urgency = forms.ChoiceField(label=_("Urgency (対応緊急度)"), choices=URGENCY_CHOICES)
    organisations = forms.ModelMultipleChoiceField(
        label=_("Organisations"), queryset=Organisation.objects.none(), required=False
    )
    systems = forms.ModelMultipleChoiceField(label=_("Systems"), queryset=Organisation.objects.none(), required=False)
    drill = forms.BooleanField(label=_("Drill (対応訓練)"), required=False)

    def __init__(self, user: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisations"].queryset = Organisation.objects.order_by("code")  # type: ignore[attr-defined]
        self.fields["systems"].queryset = systems_for(user).order_by("name")  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("organisations") and not data.get("systems"):
            raise forms.ValidationError(_("Choose at least one organisation or system."))
        return data


class WebhookForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    payload_format = forms.ChoiceField(label=_("Payload format"), choices=PayloadFormat.choices)
    organisation = forms.ModelChoiceField(
        label=_("Organisation (empty: company-wide)"), queryset=Organisation.objects.none(), required=False
    )
    events = forms.MultipleChoiceField(
        label=_("Events (none chosen: all)"),
        choices=lambda: [(name, name) for name in events.EVENTS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.order_by("code")  # type: ignore[attr-defined]
