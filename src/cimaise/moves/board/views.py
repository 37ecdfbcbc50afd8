"""The live board: the page, and its panel that htmx fetches again every few seconds
(``BOARD_REFRESH_SECONDS``, 30 by default)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from cimaise.core.access import own_institution, require_permission
from cimaise.core.auth import page_actor
from cimaise.core.conf import setting
from cimaise.core.models import Institution
from cimaise.moves.board import selectors, svg

VIEW_CONVOY = "moves.view_convoy"


def _institution(request: HttpRequest) -> Institution:
    actor = page_actor(request)
    institution = own_institution(actor)
    require_permission(actor, VIEW_CONVOY)
    return institution


def _context(institution: Institution) -> dict[str, Any]:
    convoys = selectors.board_convoys(institution)
    weeks = selectors.programme_weeks(institution)
    waiting, waiting_count = selectors.acclimatising(institution)
    return {
        "convoys": convoys,
        "map_svg": svg.board_map(
            selectors.board_sites(institution), convoys, _("Map of the convoys between Paris and Liévin")
        ),
        "weeks": weeks,
        "chart_svg": svg.progress_chart(weeks, _("Works stored per week against plan")),
        "departments": selectors.programme_departments(institution),
        "waiting": waiting,
        "waiting_count": waiting_count,
        "updated": timezone.now(),
        "refresh_seconds": int(setting("BOARD_REFRESH_SECONDS")),
    }


@login_required
def board(request: HttpRequest) -> HttpResponse:
    """The whole page; its panel refreshes itself."""
    return render(request, "moves/board/board.html", _context(_institution(request)))


@login_required
def board_panel(request: HttpRequest) -> HttpResponse:
    """The panel alone (what the page polls)."""
    return render(request, "moves/board/_panel.html", _context(_institution(request)))
