"""Suite-wide test set-up: PostgreSQL and browser requirements, the system Chromium.

Tests marked ``postgres`` need DATABASE_URL to point at a reachable PostgreSQL; tests marked
``browser`` need /usr/bin/chromium. Elsewhere they skip with the reason; with CI=true an unmet
requirement fails the test instead, so CI cannot pass by skipping them.
"""

from __future__ import annotations

import os
import shutil
from functools import cache
from typing import Any

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs a loop
CHROMIUM = os.environ.get("CIMAISE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytest_plugins = ["cimaise.core.tests.personas"]


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@cache
def _postgres_unmet() -> str | None:
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        return "needs PostgreSQL: run with DATABASE_URL=postgres://… (make test does)"
    try:
        import psycopg

        psycopg.connect(
            host=db["HOST"],
            port=db["PORT"] or 5432,
            user=db["USER"],
            password=db["PASSWORD"],
            dbname="postgres",
            connect_timeout=3,
        ).close()
    except Exception as exc:  # any connection failure means "not available here"
        return f"PostgreSQL at {db['HOST']}:{db['PORT']} is not reachable ({type(exc).__name__})"
    return None


@cache
def _browser_unmet() -> str | None:
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        return f"needs Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker, unmet in (("postgres", _postgres_unmet), ("browser", _browser_unmet)):
        if item.get_closest_marker(marker) is None:
            continue
        reason = unmet()
        if reason is None:
            continue
        if _in_ci():
            pytest.fail(f"CI=true and this {marker} test cannot run: {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": CHROMIUM_ARGS,
    }
