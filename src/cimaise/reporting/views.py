"""The reporting pages: the list of dashboards with the build's state and its "build now"
button, each dashboard with its filters, charts and tables, and every table as CSV or XLSX.
Analysts and administrators only; anyone else gets 403."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cimaise.core.access import own_institution
from cimaise.core.auth import page_actor
from cimaise.core.errors import Conflict, PermissionDenied
from cimaise.core.roles import Role
from cimaise.reporting import build, exports, queries
from cimaise.reporting.dashboards import DASHBOARDS, Dashboard, dashboard_run, table_run
from cimaise.reporting.params import filters_parse
from cimaise.reporting.queries import Filters
from cimaise.reporting.tasks import facts_build_task

READERS = (Role.ANALYST, Role.ADMIN)


def reader_institution(request: HttpRequest) -> str:
    """The institution code of an analyst or administrator; 403 for anyone else."""
    actor = page_actor(request)
    if not actor.has_role(*READERS):
        raise PermissionDenied("reporting is for analysts and administrators")
    return own_institution(actor).code


def _dashboard(key: str) -> Dashboard:
    dashboard = DASHBOARDS.get(key)
    if dashboard is None:
        raise Http404(key)
    return dashboard


def _filters(
    request: HttpRequest, institution: str, dashboard: Dashboard
) -> tuple[Filters, dict[str, list[str]]]:
    with queries.connect() as con:
        choices = queries.choices(con, institution) if dashboard.filters else {}
        latest = queries.last_day(con, institution) or timezone.localdate()
    f = filters_parse(
        request.GET, institution=institution, choices=choices, latest=latest, names=dashboard.filters
    )
    return f, choices


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    reader_institution(request)
    context = {"dashboards": DASHBOARDS.values(), "built_at": build.last_built()}
    return render(request, "reporting/index.html", context)


@login_required
@require_POST
def build_now(request: HttpRequest) -> HttpResponse:
    """Enqueue a build (the task worker runs it; in tests it runs at once)."""
    reader_institution(request)
    try:
        facts_build_task.enqueue()
    except Conflict:  # a build runs already (an immediate task backend runs it here)
        messages.info(request, _("A build is already under way; the figures update when it ends."))
        return redirect("reporting:index")
    messages.success(request, _("The build is under way; the figures update when it ends."))
    return redirect("reporting:index")


@login_required
@require_GET
def dashboard_page(request: HttpRequest, key: str) -> HttpResponse:
    institution = reader_institution(request)
    dashboard = _dashboard(key)
    f, choices = _filters(request, institution, dashboard)
    tables = dashboard_run(dashboard, f, timezone.now())
    context: dict[str, Any] = {
        "dashboard": dashboard,
        "dashboards": DASHBOARDS.values(),
        "f": f,
        "tables": tables,
        "choices": {name: choices[name] for name in dashboard.filters},
        "query": request.GET.urlencode(),
        "built_at": build.last_built(),
    }
    return render(request, "reporting/dashboard.html", context)


@login_required
@require_GET
def table_export(request: HttpRequest, key: str, table: str, fmt: str) -> HttpResponse:
    """One table of a dashboard, with the page's filters, as ``csv`` or ``xlsx``."""
    institution = reader_institution(request)
    dashboard = _dashboard(key)
    spec = dashboard.table(table)
    if spec is None:
        raise Http404(table)
    f, _choices = _filters(request, institution, dashboard)
    with queries.connect() as con:
        result = table_run(con, spec, f, timezone.now())
    name = f"{dashboard.key}-{spec.key}-{f.start:%Y%m%d}-{f.end:%Y%m%d}.{fmt}"
    if fmt == "csv":
        response = HttpResponse(exports.table_csv(result), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            exports.table_xlsx(result),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
