"""``ismp workitems``: sub-commands are registered here."""

from __future__ import annotations

from typing import Any


def register(sub: Any) -> None:
    """Nothing yet."""
