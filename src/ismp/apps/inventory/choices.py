from django.db import models
from django.utils.translation import gettext_lazy as _


class Lifecycle(models.TextChoices):
    PLANNED = "planned", _("Planned (計画中)")
    DEVELOPMENT = "development", _("In development (開発中)")
    IN_SERVICE = "in_service", _("In service (運用中)")
    RETIRED = "retired", _("Retired (廃止)")


class SystemType(models.TextChoices):
    PUBLIC_WEB = "public_web", _("Public, with web application (公開・Webアプリあり)")
    PUBLIC_OTHER = "public_other", _("Public, other (公開・その他)")
    INTERNET_GATEWAY = "internet_gateway", _("Has an internet gateway (インターネット接続口あり)")
    INTERNAL = "internal", _("Internal only (社内のみ)")


class Criticality(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class Part(models.TextChoices):
    APPLICATION = "a", _("Application")
    OPERATING_SYSTEM = "o", _("Operating system")
    HARDWARE = "h", _("Hardware")


class ComponentSource(models.TextChoices):
    MANUAL = "manual", _("Manual")
    LEDGER = "ledger", _("Ledger (CSV/XLSX)")
    SBOM = "sbom", _("SBOM")
    SCAN = "scan", _("Scan")
