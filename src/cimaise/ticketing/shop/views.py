"""The visitors' shop, first steps (no login): the products on sale, a product's days and slots,
and the tickets of a slot, whose form holds the places in a cart kept in the visitor's session.
Thin: read, call one service, render; a service's error shows next to the field it names."""

from __future__ import annotations

from decimal import Decimal

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from cimaise.core.errors import Conflict, DomainError, NotFound
from cimaise.core.models import Institution
from cimaise.ticketing import conf, selectors, services, waiting
from cimaise.ticketing.api import shop_institution
from cimaise.ticketing.capacity import PARIS
from cimaise.ticketing.models import Channel, Product
from cimaise.ticketing.selectors import SlotView
from cimaise.ticketing.shop import display, reads, visit
from cimaise.ticketing.shop.forms import TicketsForm, quantity_field

WHO = "visitor"


def _product(institution: Institution, code: str) -> Product:
    product = reads.product_on_sale(institution=institution, code=code)
    if product is None:
        raise Http404("no such product on sale")
    return product


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    institution = shop_institution(request)
    products = selectors.products_on_sale(institution=institution, channel=Channel.WEB)
    context = {"institution": institution, "products": display.product_rows(products)}
    return render(request, "ticketing/shop/home.html", context)


@require_GET
def product(request: HttpRequest, code: str) -> HttpResponse:
    institution = shop_institution(request)
    chosen = _product(institution, code)
    today = timezone.localdate(timezone=PARIS)
    day = display.day_parse(request.GET.get("date"), today)
    views = (
        selectors.slots_available(institution=institution, day=day, product=code, channel=Channel.WEB)
        if day
        else []
    )
    context = {
        "product": chosen,
        "months": display.product_days(product=chosen, today=today, chosen=day),
        "weekdays": display.weekday_names(today),
        "day": day,
        "groups": display.time_groups(views, timezone.now()),
    }
    return render(request, "ticketing/shop/product.html", context)


def _slot_view(institution: Institution, product: Product, slot_id: int) -> SlotView:
    view = reads.slot_view(institution=institution, product=product, slot_id=slot_id)
    if view is None or view.slot.ends_at <= timezone.now():
        raise Http404("no such slot")
    return view


def _tickets_form(request: HttpRequest, product: Product, view: SlotView) -> TicketsForm:
    data = request.POST if request.method == "POST" else None
    return TicketsForm(data, tariffs=view.tariffs, max_per_order=product.max_per_order)


@require_http_methods(["GET", "POST"])
def tickets(request: HttpRequest, code: str, slot_id: int) -> HttpResponse:
    institution = shop_institution(request)
    chosen = _product(institution, code)
    view = _slot_view(institution, chosen, slot_id)
    if not _admitted(request, institution):
        return to_waiting_room(request)
    form = _tickets_form(request, chosen, view)
    if request.method == "POST" and form.is_valid():
        held = _hold(request, institution, view, form)
        if held is not None:
            return held
    context = {
        "product": chosen,
        "view": view,
        "form": form,
        "rows": _rows(form),
        "total": _total(form),
        "hold_minutes": int(conf.cart_hold().total_seconds() // 60),
    }
    return render(request, "ticketing/shop/tickets.html", context, status=400 if form.errors else 200)


@require_GET
def total(request: HttpRequest, code: str, slot_id: int) -> HttpResponse:
    """The tickets form's total as the quantities change (an htmx fragment)."""
    institution = shop_institution(request)
    chosen = _product(institution, code)
    form = TicketsForm(
        request.GET,
        tariffs=_slot_view(institution, chosen, slot_id).tariffs,
        max_per_order=chosen.max_per_order,
    )
    return render(request, "ticketing/shop/_total.html", {"total": _total(form)})


def _rows(form: TicketsForm) -> list[tuple[object, display.TariffRow]]:
    return [(form[quantity_field(t)], display.tariff_row(t)) for t in form.tariffs]


def _total(form: TicketsForm) -> str:
    if not form.is_bound:
        return display.money(Decimal(0))
    form.is_valid()
    cleaned = getattr(form, "cleaned_data", {})
    amount = sum((t.price * int(cleaned.get(quantity_field(t)) or 0) for t in form.tariffs), Decimal(0))
    return display.money(amount)


def _hold(
    request: HttpRequest, institution: Institution, view: SlotView, form: TicketsForm
) -> HttpResponse | None:
    """Hold the places (``cart_create``); the cart's id goes in the session. None when refused."""
    items = form.items()
    wanted = services.CartRequest(
        slot=view.slot.pk, items=items, channel=Channel.WEB, admission=visit.admission(request)
    )
    try:
        cart = services.cart_create(institution=institution, request=wanted, owner=None, who=WHO)
    except Conflict as error:
        if error.code == "admission_required":
            return to_waiting_room(request)
        form.service_error(error, items)
        return None
    except DomainError as error:
        form.service_error(error, items)
        return None
    _release_previous(request, institution)
    visit.cart_keep(request, cart.pk)
    return redirect("shop:cart")


def _release_previous(request: HttpRequest, institution: Institution) -> None:
    """A visitor holds one cart at a time: choosing again gives the earlier places back."""
    previous = visit.cart_id(request)
    if previous is None:
        return
    try:
        cart = services.cart_get(institution=institution, cart_id=previous, owner=None)
    except NotFound:
        return
    services.cart_release(cart=cart, who=WHO)


def _admitted(request: HttpRequest, institution: Institution) -> bool:
    """Whether the visitor may hold places: no waiting room is on, or they were admitted."""
    try:
        waiting.admission_check(institution=institution, token=visit.admission(request))
    except Conflict:
        return False
    return True


def to_waiting_room(request: HttpRequest) -> HttpResponseRedirect:
    """Send the visitor to the queue, to come back here once admitted."""
    visit.admission_forget(request)
    visit.after_wait_keep(request, request.get_full_path())
    return redirect("shop:wait")
