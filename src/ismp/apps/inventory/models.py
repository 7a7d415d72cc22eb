from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ismp.apps.inventory.choices import ComponentSource, Criticality, Lifecycle, Part, SystemType
from ismp.apps.inventory.validators import (
    validate_addresses,
    validate_cpe,
    validate_fqdns,
    validate_purl,
    validate_urls,
)


class System(models.Model):
    """One IT system of the company: a row of the system inventory (システム台帳)."""

    name = models.CharField(_("system name"), max_length=200, unique=True)
    purpose = models.TextField(_("purpose"), blank=True)
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="systems", verbose_name=_("organisation")
    )
    service_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_systems",
        verbose_name=_("service owner"),
    )
    administrators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="administered_systems", verbose_name=_("administrators")
    )
    lifecycle = models.CharField(_("lifecycle"), max_length=16, choices=Lifecycle.choices, default=Lifecycle.PLANNED)
    system_type = models.CharField(_("system type"), max_length=20, choices=SystemType.choices)
    criticality = models.CharField(
        _("criticality"), max_length=10, choices=Criticality.choices, default=Criticality.MEDIUM
    )
    has_global_ip = models.BooleanField(_("holds a global IP"), default=False)
    addresses = models.JSONField(_("IP addresses and CIDRs"), default=list, blank=True, validators=[validate_addresses])
    fqdns = models.JSONField(_("FQDNs"), default=list, blank=True, validators=[validate_fqdns])
    urls = models.JSONField(_("URLs"), default=list, blank=True, validators=[validate_urls])
    hardware = models.CharField(_("hardware"), max_length=200, blank=True)
    location = models.CharField(_("location"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("system")
        indexes = [
            models.Index(fields=["organisation", "name"]),
            models.Index(fields=["system_type"]),
            models.Index(fields=["lifecycle"]),
        ]

    def __str__(self) -> str:
        return self.name


class Component(models.Model):
    """A piece of software (or OS, or hardware) on a system, named by CPE 2.3 and/or package URL."""

    # no index of its own: the unique constraint (system, source, key) serves look-ups by system
    system = models.ForeignKey(
        System, on_delete=models.CASCADE, related_name="components", verbose_name=_("system"), db_index=False
    )
    key = models.CharField(max_length=600, editable=False)
    cpe = models.CharField(_("CPE 2.3 name"), max_length=500, blank=True, validators=[validate_cpe])
    purl = models.CharField(_("package URL"), max_length=500, blank=True, validators=[validate_purl])
    part = models.CharField(_("part"), max_length=1, choices=Part.choices, default=Part.APPLICATION)
    vendor = models.CharField(_("vendor"), max_length=200, blank=True)
    product = models.CharField(_("product"), max_length=200)
    version = models.CharField(_("version"), max_length=100, blank=True)
    source = models.CharField(
        _("source"), max_length=8, choices=ComponentSource.choices, default=ComponentSource.MANUAL
    )
    first_seen = models.DateTimeField(_("first seen"), default=timezone.now)
    last_seen = models.DateTimeField(_("last seen"), default=timezone.now)

    class Meta:
        ordering = ["system_id", "vendor", "product", "version"]
        verbose_name = _("component")
        constraints = [models.UniqueConstraint(fields=["system", "source", "key"], name="component_unique_per_source")]
        indexes = [models.Index(fields=["vendor", "product"])]

    def __str__(self) -> str:
        return " ".join(p for p in (self.vendor, self.product, self.version) if p)
