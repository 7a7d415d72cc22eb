from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CSIRT = "csirt", _("CSIRT (情報セキュリティ部)")
    CISO = "ciso", _("CISO")
    SYSADMIN = "sysadmin", _("System administrator (システム管理者)")
    SERVICE_OWNER = "service_owner", _("Service owner (サービス責任者)")
    AUDITOR = "auditor", _("Auditor")


class OrganisationKind(models.TextChoices):
    COMPANY = "company", _("Company")
    DIVISION = "division", _("Division")
    DEPARTMENT = "department", _("Department")


class TokenScope(models.TextChoices):
    READ = "read", _("Read only")
    WRITE = "write", _("Read and write")
