"""What the vulnerability feeds tell the rest of ISMP. Sent after the transaction that stored the change
commits; the change itself is in ``ChangeEvent``."""

from django.dispatch import Signal

from ismp.apps.vulns.choices import ChangeKind

# The change events after which the systems a vulnerability names must be matched again.
MATCHING_KINDS = (ChangeKind.NEW_VULNERABILITY, ChangeKind.APPLICABILITY_CHANGED, ChangeKind.REJECTED)

# Change events of MATCHING_KINDS were stored. No arguments: the receiver reads ChangeEvent.
applicability_changed = Signal()

# Change events of any kind were stored (new, severity, KEV, exploit, EPSS…): urgency is recomputed from them.
# No arguments: the receiver reads ChangeEvent past its own mark.
vulnerabilities_changed = Signal()
