"""Django settings, derived from the typed ISMP settings. Nothing here reads the environment directly."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url

import ismp
from ismp.settings.env import load_settings

ISMP = load_settings()
ISMP.ensure_data_dir()

SECRET_KEY = ISMP.effective_secret_key()
DEBUG = ISMP.debug
ALLOWED_HOSTS = ISMP.hosts()

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "axes",
    "huey.contrib.djhuey",
    "ismp.apps.accounts",
    "ismp.apps.audit",
    "ismp.apps.inventory",
    "ismp.apps.vulns",
    "ismp.apps.findings",
    "ismp.apps.workflow",
    "ismp.apps.notifications",
    "ismp.apps.controls",
    "ismp.apps.dashboard",
    "ismp.apps.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "ismp.apps.web.middleware.CompanyLanguageMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ismp.urls"
WSGI_APPLICATION = "ismp.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:dashboard"
LOGOUT_REDIRECT_URL = "web:login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "ismp.apps.notifications.context_processors.unread_notifications",
            ],
        },
    },
]

DATABASES = {"default": dj_database_url.parse(ISMP.effective_database_url, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = ISMP.login_failure_limit
AXES_COOLOFF_TIME = timedelta(minutes=ISMP.login_cooloff_minutes)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "web/locked_out.html"

SESSION_COOKIE_AGE = ISMP.session_hours * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = ISMP.https
CSRF_COOKIE_SECURE = ISMP.https
CSRF_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = ISMP.https
SECURE_HSTS_SECONDS = 31536000 if ISMP.https else 0
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_TEMP_DIR = str(ISMP.data_dir / "imports")

LANGUAGE_CODE = ISMP.language
LANGUAGES = [("ja", "日本語"), ("en", "English")]
USE_I18N = True
LOCALE_PATHS = [Path(ismp.__file__).parent / "locale"]
USE_TZ = True
TIME_ZONE = ISMP.time_zone

STATIC_URL = "/static/"
STATIC_ROOT = str(ISMP.data_dir / "static")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

EMAIL_BACKEND = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
}[ISMP.mail_backend]
EMAIL_FILE_PATH = str(ISMP.data_dir / "mail")
EMAIL_HOST = ISMP.smtp_host
EMAIL_PORT = ISMP.smtp_port
EMAIL_HOST_USER = ISMP.smtp_user
EMAIL_HOST_PASSWORD = ISMP.smtp_password
EMAIL_USE_TLS = ISMP.smtp_starttls
DEFAULT_FROM_EMAIL = ISMP.mail_from

HUEY: dict[str, object] = {
    "name": "ismp",
    "immediate": ISMP.tasks_backend == "immediate",
    "consumer": {"workers": 2, "worker_type": "thread"},
}
if ISMP.tasks_backend == "redis":
    HUEY["huey_class"] = "huey.RedisHuey"
    HUEY["url"] = ISMP.redis_url
else:
    HUEY["huey_class"] = "huey.SqliteHuey"
    HUEY["filename"] = str(ISMP.data_dir / "tasks.sqlite3")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "ismp.apps.accounts.tokens.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["ismp.apps.accounts.permissions.RolePermission"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "ismp.apps.web.api_errors.problem_exception_handler",
    # ?format= names the file format of exports (csv, xlsx, cyclonedx-json…); content type is negotiated
    # with the Accept header only
    "URL_FORMAT_OVERRIDE": None,
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": "6000/hour"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ISMP API",
    "DESCRIPTION": "Information Security Management Platform: system inventory, accounts, audit trail and "
    "vulnerability intelligence.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
