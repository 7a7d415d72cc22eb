from django.db import models
from django.utils.translation import gettext_lazy as _


class EvidenceSource(models.TextChoices):
    KEV = "kev", _("CISA KEV (known exploited)")
    EXPLOITDB = "exploitdb", _("Exploit-DB")
    METASPLOIT = "metasploit", _("Metasploit module")
    SSVC = "ssvc", _("CISA SSVC exploitation")
    ANALYST = "analyst", _("Analyst evidence")


class ChangeKind(models.TextChoices):
    NEW_VULNERABILITY = "new_vulnerability", _("new vulnerability")
    APPLICABILITY_CHANGED = "applicability_changed", _("new or changed applicability")
    SEVERITY_CHANGED = "severity_changed", _("severity changed")
    REJECTED = "rejected", _("rejected")
    ADDED_TO_KEV = "added_to_kev", _("added to KEV")
    EXPLOIT_PUBLISHED = "exploit_published", _("exploit published")
    EPSS_JUMP = "epss_jump", _("EPSS jump")
