"""Field validators shared by the model, forms, API and imports (one rule, one place)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from ismp.engines.cpe import CpeSyntaxError, parse_cpe
from ismp.engines.inventory.component import make_component
from ismp.errors import InputError

_url = URLValidator(schemes=["http", "https"])
_FQDN_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-.")


def validate_cpe(value: str) -> None:
    try:
        parse_cpe(value)
    except CpeSyntaxError as exc:
        raise ValidationError(str(exc)) from None


def validate_purl(value: str) -> None:
    try:
        make_component(line=None, file="", purl=value)
    except InputError as exc:
        raise ValidationError(exc.reason) from None


def validate_addresses(values: list[str]) -> None:
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ValidationError(f"{value!r} is not an IP address or CIDR (e.g. 192.0.2.10 or 10.1.0.0/16)") from None


def validate_fqdns(values: list[str]) -> None:
    for value in values:
        labels = value.rstrip(".").lower().split(".")
        if (
            len(value) > 253
            or len(labels) < 2
            or not set(value.lower()) <= _FQDN_CHARS
            or any(not label or len(label) > 63 or label.startswith("-") for label in labels)
        ):
            raise ValidationError(f"{value!r} is not a fully qualified domain name (e.g. www.example.jp)")


def validate_urls(values: list[str]) -> None:
    for value in values:
        try:
            _url(value)
        except ValidationError:
            raise ValidationError(f"{value!r} is not an http(s) URL (e.g. https://www.example.jp/)") from None
        if not urlsplit(value).hostname:
            raise ValidationError(f"{value!r} has no host")
