from django.db import models
from django.utils.translation import gettext_lazy as _


class FindingState(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")
    NOT_AFFECTED = "not_affected", _("Not affected")


class Confidence(models.TextChoices):
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low (needs confirmation)")


class Justification(models.TextChoices):
    """Why a finding does not affect the system: the VEX justifications of OpenVEX and CSAF (CycloneDX
    has its own words for them; ``ismp.engines.vex`` maps them)."""

    COMPONENT_NOT_PRESENT = "component_not_present", _("The component is not present")
    VULNERABLE_CODE_NOT_PRESENT = "vulnerable_code_not_present", _("The vulnerable code is not present")
    VULNERABLE_CODE_NOT_IN_EXECUTE_PATH = (
        "vulnerable_code_not_in_execute_path",
        _("The vulnerable code is never executed"),
    )
    VULNERABLE_CODE_CANNOT_BE_CONTROLLED_BY_ADVERSARY = (
        "vulnerable_code_cannot_be_controlled_by_adversary",
        _("An attacker cannot reach or control the vulnerable code"),
    )
    INLINE_MITIGATIONS_ALREADY_EXIST = "inline_mitigations_already_exist", _("Mitigations already exist")
