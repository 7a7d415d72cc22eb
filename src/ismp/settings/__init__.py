"""Typed settings read from ISMP_* environment variables (see docs/configuration.md)."""

from ismp.settings.env import IsmpSettings, load_settings

__all__ = ["IsmpSettings", "load_settings"]
