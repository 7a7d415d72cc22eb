"""Notification settings fail loudly, naming the variable."""

from __future__ import annotations

import pytest

from ismp.errors import ConfigError
from ismp.settings.env import load_settings


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ISMP_NOTIFY_DIGEST_TIME", "8.30"),
        ("ISMP_NOTIFY_DIGEST_TIME", "24:00"),
        ("ISMP_NOTIFY_MAIL_PER_HOUR", "0"),
        ("ISMP_NOTIFY_MAX_ATTEMPTS", "0"),
        ("ISMP_NOTIFY_WEBHOOK_TIMEOUT", "0"),
    ],
)
def test_bad_values_name_the_variable(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert variable in str(caught.value)


def test_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("ISMP_DATA_DIR", str(tmp_path))
    settings = load_settings()
    assert (settings.notify_digest_time, settings.notify_mail_per_hour, settings.notify_max_attempts) == (
        "08:30",
        10,
        8,
    )
