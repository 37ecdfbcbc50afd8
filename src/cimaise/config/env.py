"""Typed readers for settings taken from the environment.

Each helper fails loudly (``ImproperlyConfigured``) on a value it cannot read, naming the
variable, rather than silently falling back to a default that would hide the mistake.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    """The variable's value, or ``default`` when it is unset."""
    return os.environ.get(name, default)


def env_bool(name: str, *, default: bool) -> bool:
    """A boolean: 1/true/yes/on or 0/false/no/off (any case)."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true or false)")


def env_int(name: str, *, default: int, minimum: int | None = None) -> int:
    """An integer, optionally bounded below."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    """A comma-separated list; blanks are dropped."""
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def secret_key(name: str, var_dir: Path) -> str:
    """The secret key: from the environment, else from ``var/secret_key``, made once."""
    raw = os.environ.get(name)
    if raw is not None:
        if len(raw) < 32:
            raise ImproperlyConfigured(f"{name} must be at least 32 characters long")
        return raw
    path = var_dir / "secret_key"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


@dataclass(frozen=True)
class DatabaseUrl:
    """A parsed ``DATABASE_URL``."""

    engine: str
    name: str
    user: str = ""
    password: str = ""
    host: str = ""
    port: str = ""
    options: tuple[tuple[str, str], ...] = ()


_SCHEMES = {
    "sqlite": "django.db.backends.sqlite3",
    "postgres": "django.db.backends.postgresql",
    "postgresql": "django.db.backends.postgresql",
}


def parse_database_url(url: str) -> DatabaseUrl:
    """Read ``sqlite:///path`` or ``postgres://user:pass@host:port/name?opt=v``."""
    parts = urlsplit(url)
    engine = _SCHEMES.get(parts.scheme)
    if engine is None:
        raise ImproperlyConfigured(
            f"DATABASE_URL scheme {parts.scheme!r} is not supported (use sqlite or postgres)"
        )
    if engine.endswith("sqlite3"):
        path = unquote(parts.path)
        if not path or path == "/":
            raise ImproperlyConfigured("DATABASE_URL for sqlite needs a path: sqlite:///var/db.sqlite3")
        # sqlite:///relative.db has the path "/relative.db"; sqlite:////abs.db has "//abs.db".
        return DatabaseUrl(engine=engine, name=path[1:])
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise ImproperlyConfigured("DATABASE_URL for postgres needs a database name")
    return DatabaseUrl(
        engine=engine,
        name=name,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        host=parts.hostname or "",
        port=str(parts.port or ""),
        options=tuple(parse_qsl(parts.query)),
    )


def database_settings(url: str, base_dir: Path, *, pool_max: int = 8) -> dict[str, Any]:
    """Django's ``DATABASES['default']`` for a URL: SQLite in WAL mode, or pooled PostgreSQL
    (at most ``pool_max`` connections per process)."""
    parsed = parse_database_url(url)
    if parsed.engine.endswith("sqlite3"):
        path = Path(parsed.name)
        if not path.is_absolute():
            path = base_dir / path
        path.parent.mkdir(parents=True, exist_ok=True)
        return {
            "ENGINE": parsed.engine,
            "NAME": str(path),
            "OPTIONS": {
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;"
                ),
                "transaction_mode": "IMMEDIATE",
            },
            "TEST": {"NAME": None},
        }
    options: dict[str, Any] = dict(parsed.options)
    options.setdefault("pool", {"min_size": 1, "max_size": pool_max, "timeout": 10})
    return {
        "ENGINE": parsed.engine,
        "NAME": parsed.name,
        "USER": parsed.user,
        "PASSWORD": parsed.password,
        "HOST": parsed.host,
        "PORT": parsed.port,
        "OPTIONS": options,
        "CONN_MAX_AGE": 0,
    }
