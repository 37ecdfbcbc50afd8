"""Settings helpers read the environment and fail loudly on bad values."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from cimaise.config.env import database_settings, env_bool, env_int, env_list, parse_database_url, secret_key


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("TRUE", True), ("yes", True), ("off", False), ("0", False)]
)
def test_booleans_are_read_in_any_case(monkeypatch: pytest.MonkeyPatch, raw: str, expected: bool) -> None:
    monkeypatch.setenv("X_FLAG", raw)
    assert env_bool("X_FLAG", default=not expected) is expected


def test_an_unset_boolean_takes_its_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("X_FLAG", raising=False)
    assert env_bool("X_FLAG", default=True) is True


def test_a_bad_boolean_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEBUG_X", "maybe")
    with pytest.raises(ImproperlyConfigured, match="DEBUG_X='maybe' is not a boolean"):
        env_bool("DEBUG_X", default=False)


def test_integers_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_N", "12")
    assert env_int("X_N", default=0) == 12
    monkeypatch.setenv("X_N", "twelve")
    with pytest.raises(ImproperlyConfigured, match="X_N='twelve' is not an integer"):
        env_int("X_N", default=0)
    monkeypatch.setenv("X_N", "-1")
    with pytest.raises(ImproperlyConfigured, match="at least 0"):
        env_int("X_N", default=0, minimum=0)


def test_lists_drop_blanks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_HOSTS", " a.example , ,b.example")
    assert env_list("X_HOSTS", []) == ["a.example", "b.example"]


def test_the_secret_key_is_made_once_and_kept(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("X_SECRET", raising=False)
    first = secret_key("X_SECRET", tmp_path / "var")
    assert len(first) >= 50
    assert secret_key("X_SECRET", tmp_path / "var") == first
    assert (tmp_path / "var" / "secret_key").stat().st_mode & 0o777 == 0o600


def test_a_short_secret_key_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("X_SECRET", "short")
    with pytest.raises(ImproperlyConfigured, match="at least 32"):
        secret_key("X_SECRET", tmp_path)


def test_sqlite_urls_get_wal_and_immediate_transactions(tmp_path: Path) -> None:
    db = database_settings("sqlite:///var/x.sqlite3", tmp_path)
    assert db["NAME"] == str(tmp_path / "var" / "x.sqlite3")
    assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]
    assert db["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    absolute = tmp_path / "abs" / "db.sqlite3"
    assert database_settings(f"sqlite:///{absolute}", Path("/nowhere"))["NAME"] == str(absolute)


def test_postgres_urls_get_the_pool() -> None:
    parsed = parse_database_url("postgres://u:p%40ss@db.local:5433/cimaise")
    assert (parsed.user, parsed.password, parsed.host, parsed.port, parsed.name) == (
        "u",
        "p@ss",
        "db.local",
        "5433",
        "cimaise",
    )
    db = database_settings("postgresql://u@127.0.0.1/cimaise", Path("/"))
    assert db["ENGINE"] == "django.db.backends.postgresql" and db["OPTIONS"]["pool"]


@pytest.mark.parametrize("url", ["mysql://x/y", "postgres://host/", "sqlite://"])
def test_unusable_database_urls_are_refused(url: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        parse_database_url(url)


def test_production_settings_are_safe_by_default() -> None:
    from cimaise.config import settings

    assert settings.TIME_ZONE == "Europe/Paris" and settings.USE_TZ
    assert [code for code, _ in settings.LANGUAGES] == ["en", "fr", "zh-hans"]
    assert settings.SECURE_CONTENT_TYPE_NOSNIFF and settings.X_FRAME_OPTIONS == "DENY"


def test_smtp_is_configured_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    from cimaise.config import settings

    monkeypatch.setenv("EMAIL_HOST", "smtp.example.org")
    monkeypatch.setenv("EMAIL_PORT", "2525")
    try:
        reloaded = importlib.reload(settings)
        mailer = reloaded.MAILERS["default"]
        assert mailer["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
        assert mailer["OPTIONS"]["host"] == "smtp.example.org" and mailer["OPTIONS"]["port"] == 2525
    finally:
        monkeypatch.delenv("EMAIL_HOST")
        importlib.reload(settings)
