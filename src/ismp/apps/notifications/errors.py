"""Errors of notification delivery, in ISMP's one hierarchy (ismp.errors)."""

from __future__ import annotations

from ismp.errors import IsmpError


class DeliveryError(IsmpError):
    """A mail or webhook could not be delivered (the message names the server's answer)."""

    code = "delivery-failed"
    exit_code = 69  # EX_UNAVAILABLE, as for an unreachable feed
