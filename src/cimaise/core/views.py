"""Staff pages of core: home, place tree, API tokens. Thin: authorize, call, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cimaise.core import selectors, services
from cimaise.core.access import access_place, access_token, own_institution, require_permission
from cimaise.core.auth import page_actor
from cimaise.core.errors import DomainError
from cimaise.core.forms import TokenForm
from cimaise.core.ui import panels_for


@login_required
def home(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    panels = [(panel, panel.context(actor)) for panel in panels_for(actor)]
    return render(request, "core/home.html", {"panels": panels})


@login_required
def places(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    institution = own_institution(actor)
    require_permission(actor, "core.view_place")
    q = request.GET.get("q", "").strip()[:100]
    context = {
        "q": q,
        "results": selectors.place_search(institution=institution, q=q)[:50] if q else None,
        "sites": [
            (summary, selectors.place_children(institution=institution, parent=None, site=summary.site))
            for summary in selectors.site_summaries(institution=institution)
        ],
    }
    return render(request, "core/places.html", context)


@login_required
def place_children(request: HttpRequest, code: str) -> HttpResponse:
    """htmx partial: the children of one place, expanded in the tree."""
    actor = page_actor(request)
    place = access_place(actor, code)
    children = selectors.place_children(institution=place.institution, parent=place)
    return render(
        request,
        "core/_place_children.html",
        {"place": place, "children": children, "ancestors": selectors.place_ancestors(place)},
    )


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    form = TokenForm(request.POST or None)
    issued = None
    if request.method == "POST" and form.is_valid():
        try:
            issued = services.token_create(
                user=actor.user,
                label=form.cleaned_data["label"],
                expires_at=form.cleaned_data["expires_at"],
                actor=actor.label,
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            form = TokenForm()
    context = {
        "form": form,
        "issued": issued,
        "tokens": selectors.tokens_of(user_id=actor.user.pk),
        "now": timezone.now(),
    }
    return render(request, "core/tokens.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    actor = page_actor(request)
    try:
        token = services.token_revoke(actor=actor, token=access_token(actor, token_id))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Token %(prefix)s… revoked.") % {"prefix": token.prefix})
    return redirect("tokens")
