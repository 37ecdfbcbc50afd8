"""Staff downloads of the transfer documents as PDF, in the requester's language: a crate's
label, a convoy's manifest and its arrival receipt. Objects come through the ``moves.access``
gates: another institution's crate or convoy is a 404, a role without custody a 403."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from cimaise.core.access import require_actor
from cimaise.core.actors import Actor, actor_for
from cimaise.moves.access import access_convoy, access_crate
from cimaise.moves.documents.labels import crate_label_pdf
from cimaise.moves.documents.manifests import convoy_manifest_pdf
from cimaise.moves.documents.receipts import arrival_receipt_pdf


def _actor(request: HttpRequest) -> Actor:
    return require_actor(getattr(request, "actor", None) or actor_for(request.user))


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _safe(name: str) -> str:
    """A code as a file name part: letters, digits, dot, dash, underscore; anything else a dash."""
    return "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "-" for c in name)


@require_safe
@login_required
@never_cache
def crate_label(request: HttpRequest, barcode: str) -> HttpResponse:
    """The crate's label; ``?convoy=CODE`` prints it for that convoy rather than its current one."""
    actor = _actor(request)
    crate = access_crate(actor, barcode)
    code = request.GET.get("convoy", "")
    convoy = access_convoy(actor, code) if code else None
    return _pdf(crate_label_pdf(crate, convoy=convoy), f"crate-{_safe(crate.barcode)}-label.pdf")


@require_safe
@login_required
@never_cache
def convoy_manifest(request: HttpRequest, code: str) -> HttpResponse:
    convoy = access_convoy(_actor(request), code)
    return _pdf(convoy_manifest_pdf(convoy), f"convoy-{_safe(convoy.code)}-manifest.pdf")


@require_safe
@login_required
@never_cache
def arrival_receipt(request: HttpRequest, code: str) -> HttpResponse:
    convoy = access_convoy(_actor(request), code)
    return _pdf(arrival_receipt_pdf(convoy), f"convoy-{_safe(convoy.code)}-receipt.pdf")
