"""Django settings, read from the environment (see ``docs/deployment.md``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.utils.translation import gettext_lazy as _

from cimaise.config.env import (
    database_settings,
    env_bool,
    env_int,
    env_list,
    env_str,
    secret_key,
)

PACKAGE_DIR = Path(__file__).resolve().parent.parent
BASE_DIR = Path(env_str("CIMAISE_HOME", str(Path.cwd()))).resolve()
VAR_DIR = Path(env_str("CIMAISE_VAR_DIR", str(BASE_DIR / "var"))).resolve()
KEY_DIR = Path(env_str("CIMAISE_KEY_DIR", str(VAR_DIR / "keys"))).resolve()

DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY = secret_key("SECRET_KEY", VAR_DIR)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
TESTING = env_bool("CIMAISE_TESTING", default=False)

INSTALLED_APPS = [
    "cimaise.core",
    "cimaise.ledger",
    "cimaise.collection",
    "cimaise.moves",
    "cimaise.access",
    "cimaise.payments",
    "cimaise.ticketing",
    "cimaise.passnet",
    "cimaise.reporting",
    "cimaise.missions",
    "cimaise.purchasing",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks_db",
    "ninja",
]

MIDDLEWARE = [
    "cimaise.core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "cimaise.core.middleware.ApiErrorMiddleware",
]

ROOT_URLCONF = "cimaise.config.urls"
WSGI_APPLICATION = "cimaise.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cimaise.core.context_processors.navigation",
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'cimaise.sqlite3'}")
# Connections per process to PostgreSQL (a web worker, the task worker, a test run).
DATABASES = {
    "default": database_settings(
        DATABASE_URL, BASE_DIR, pool_max=env_int("DATABASE_POOL_MAX", default=8, minimum=1)
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {
    "default": {
        "BACKEND": env_str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = env_str("LANGUAGE_CODE", "en")
LANGUAGES = [
    ("en", _("English")),
    ("fr", _("French")),
    ("zh-hans", _("Simplified Chinese")),
]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

_MAIL_OPTIONS: dict[str, Any] = {}
if env_str("EMAIL_HOST", ""):
    _MAIL_OPTIONS = {
        "host": env_str("EMAIL_HOST", ""),
        "port": env_int("EMAIL_PORT", default=587, minimum=1),
        "username": env_str("EMAIL_HOST_USER", ""),
        "password": env_str("EMAIL_HOST_PASSWORD", ""),
        "use_tls": env_bool("EMAIL_USE_TLS", default=True),
    }
MAILERS = {
    "default": {
        "BACKEND": env_str(
            "EMAIL_BACKEND",
            "django.core.mail.backends.smtp.EmailBackend"
            if _MAIL_OPTIONS
            else "django.core.mail.backends.console.EmailBackend",
        ),
        "OPTIONS": _MAIL_OPTIONS,
    },
}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "cimaise@localhost")

# Security headers; cookies are secure unless DEBUG (a plain-HTTP development server).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", default=0, minimum=0)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.request": {"level": "ERROR"}},
}

CIMAISE: dict[str, Any] = {
    "INSTITUTION": env_str("CIMAISE_INSTITUTION", "louvre"),
    "TOKEN_LAST_USED_RESOLUTION_SECONDS": 60,
    # How far in the future an EPCIS eventTime may be (handheld clocks drift).
    "EPCIS_CLOCK_SKEW_SECONDS": env_int("CIMAISE_EPCIS_CLOCK_SKEW_SECONDS", default=300, minimum=0),
    # How often the transfer board fetches its panel again.
    "BOARD_REFRESH_SECONDS": env_int("CIMAISE_BOARD_REFRESH_SECONDS", default=30, minimum=1),
    # Ticketing: how long a cart holds places, how long an order may wait for its payment, how
    # long after a slot starts its visitors may still enter, and how long a sale waits for a lock.
    "CART_HOLD_MINUTES": env_int("CIMAISE_CART_HOLD_MINUTES", default=30, minimum=1),
    "PAYMENT_MINUTES": env_int("CIMAISE_PAYMENT_MINUTES", default=30, minimum=1),
    "ENTRY_TOLERANCE_MINUTES": env_int("CIMAISE_ENTRY_TOLERANCE_MINUTES", default=30, minimum=0),
    "SALE_LOCK_TIMEOUT_SECONDS": env_int("CIMAISE_SALE_LOCK_TIMEOUT_SECONDS", default=5, minimum=1),
    # The address visitors reach this server at, for links in e-mails (no trailing slash).
    "PUBLIC_URL": env_str("CIMAISE_PUBLIC_URL", "http://127.0.0.1:8000"),
}

# Payment providers (see cimaise/payments/conf.py). The sandbox card provider takes fake cards:
# on in development, tests and demo databases unless CIMAISE_PAYMENTS_SANDBOX says otherwise.
CIMAISE_PAYMENTS: dict[str, dict[str, Any]] = {}
if os.environ.get("CIMAISE_PAYMENTS_SANDBOX"):
    CIMAISE_PAYMENTS["sandbox"] = {"enabled": env_bool("CIMAISE_PAYMENTS_SANDBOX", default=False)}
