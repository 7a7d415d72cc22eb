"""Settings come from ISMP_* variables and fail loudly, naming the variable."""

from __future__ import annotations

import pytest

from ismp.errors import ConfigError
from ismp.settings.env import load_settings


def test_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("ISMP_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ISMP_DATABASE_URL", raising=False)
    settings = load_settings()
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'ismp.sqlite3'}"
    assert settings.time_zone == "Asia/Tokyo"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ISMP_SMTP_PORT", "70000"),
        ("ISMP_DATABASE_URL", "mysql://x"),
        ("ISMP_MAIL_BACKEND", "pigeon"),
        ("ISMP_HTTPS", "perhaps"),
        ("ISMP_MAX_IMPORT_MB", "0"),
    ],
)
def test_bad_values_name_the_variable(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert variable in str(caught.value)


def test_secret_key_is_generated_once_into_the_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("ISMP_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ISMP_SECRET_KEY", raising=False)
    first = load_settings().effective_secret_key()
    assert len(first) > 40 and (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert load_settings().effective_secret_key() == first
