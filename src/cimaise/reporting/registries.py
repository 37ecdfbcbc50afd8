"""What the reporting app registers at start-up: its navigation link, the nightly build as a
housekeeping job, and the demo loader."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from cimaise.core.housekeeping import Job, register
from cimaise.core.ui import NavItem, register_nav
from cimaise.reporting import demo_data  # noqa: F401  (registers the demo loader)
from cimaise.reporting.nightly import NIGHTLY_CHECK_SECONDS, nightly_build

register_nav(NavItem(_("Reporting"), "reporting:index", order=80, roles=frozenset({"analyst", "admin"})))
register(Job("reporting.nightly-build", NIGHTLY_CHECK_SECONDS, nightly_build))
