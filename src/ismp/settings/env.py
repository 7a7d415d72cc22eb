"""ISMP's one settings object, built from ``ISMP_*`` environment variables and validated at start-up.

Every variable is documented in docs/configuration.md. A bad value stops start-up with a message naming
the variable (ConfigError); nothing falls back silently.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ismp.errors import ConfigError

SECRET_KEY_FILE = "secret_key"  # noqa: S105 (a file name)


class IsmpSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ISMP_", extra="ignore", frozen=True)

    data_dir: Path = Field(default=Path("var"), description="where the embedded database and files live")
    database_url: str = Field(default="", description="sqlite:///… or postgres://…; empty: SQLite in data_dir")
    secret_key: str = Field(default="", description="Django secret key; generated into data_dir if empty")
    debug: bool = False
    allowed_hosts: str = "127.0.0.1,localhost,[::1]"
    https: bool = Field(default=False, description="served over HTTPS: secure cookies, HSTS, redirect")
    time_zone: str = "Asia/Tokyo"
    language: Literal["ja", "en"] = "ja"
    max_import_mb: int = Field(default=64, ge=1, le=4096)
    login_failure_limit: int = Field(default=5, ge=1)
    login_cooloff_minutes: int = Field(default=15, ge=1)
    session_hours: int = Field(default=8, ge=1, le=24 * 30)

    mail_backend: Literal["console", "file", "smtp"] = "file"  # the demo sends hundreds: not to the terminal
    mail_from: str = "ismp@localhost"
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    site_url: str = Field(default="", description="the address users open ISMP at, for links in notifications")
    notify_mail_per_hour: int = Field(default=10, ge=1, description="immediate mails per recipient an hour")
    notify_max_attempts: int = Field(default=8, ge=1, le=100, description="delivery attempts before giving up")
    notify_digest_time: str = Field(default="08:30", description="daily digest time (HH:MM, recipient's zone)")
    notify_webhook_timeout: float = Field(default=10.0, gt=0, description="seconds before a webhook times out")

    nvd_api_key: str = Field(default="", description="NVD API key: 50 requests per 30 s instead of 5")
    feed_urls: dict[str, str] = Field(
        default_factory=dict, description='per-source base URL overrides (mirrors, tests), JSON: {"nvd": "https://…"}'
    )
    feed_schedule: str = Field(default="03:17", description="daily online feed update time (HH:MM), or off")
    http_timeout: float = Field(default=60.0, gt=0, description="seconds before a feed request times out")

    tasks_backend: Literal["sqlite", "redis", "immediate"] = "sqlite"
    redis_url: str = "redis://127.0.0.1:6379/0"

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @field_validator("feed_schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        if value != "off":
            hour, _, minute = value.partition(":")
            if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
                raise ValueError("must be HH:MM (24-hour) or off")
        return value

    @field_validator("notify_digest_time")
    @classmethod
    def _digest_time(cls, value: str) -> str:
        hour, _, minute = value.partition(":")
        if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
            raise ValueError("must be HH:MM (24-hour)")
        return value

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if value and not value.startswith(("sqlite://", "postgres://", "postgresql://")):
            raise ValueError("must start with sqlite://, postgres:// or postgresql://")
        return value

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'ismp.sqlite3'}"

    def hosts(self) -> list[str]:
        return [h.strip() for h in self.allowed_hosts.split(",") if h.strip()]

    def ensure_data_dir(self) -> Path:
        """Create the data directory (and its sub-folders) if needed."""
        for sub in ("", "mail", "imports", "static"):
            (self.data_dir / sub).mkdir(parents=True, exist_ok=True)
        return self.data_dir

    def effective_secret_key(self) -> str:
        """ISMP_SECRET_KEY, else the key generated into the data directory on first run."""
        if self.secret_key:
            return self.secret_key
        path = self.ensure_data_dir() / SECRET_KEY_FILE
        if not path.exists():
            path.write_text(secrets.token_urlsafe(50), encoding="ascii")
            path.chmod(0o600)
        return path.read_text(encoding="ascii").strip()


def load_settings() -> IsmpSettings:
    """Read and validate the environment; raise ConfigError naming the first bad variable."""
    try:
        return IsmpSettings()
    except ValidationError as exc:
        error = exc.errors()[0]
        name = "ISMP_" + str(error["loc"][0]).upper() if error["loc"] else "ISMP_*"
        raise ConfigError(name, f"{error['msg']} (got {error.get('input')!r})") from None
