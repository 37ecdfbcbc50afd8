"""Settings for the test suite: the production settings with a fast hasher and inline tasks."""

from __future__ import annotations

import tempfile
from pathlib import Path

from cimaise.config.settings import *  # noqa: F403
from cimaise.config.settings import CIMAISE

TESTING = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
# Test teardown flushes every table, the ledger included (see ledger/management/commands/flush.py).
LEDGER_ALLOW_FLUSH = True
CIMAISE.update(TOKEN_LAST_USED_RESOLUTION_SECONDS=0)  # record every token use in tests
# Keys and uploads made by tests go to a throw-away directory, never to var/.
KEY_DIR = Path(tempfile.mkdtemp(prefix="cimaise-test-keys-"))
MEDIA_ROOT = KEY_DIR / "media"
