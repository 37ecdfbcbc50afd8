"""The tickets PDF and the confirmation e-mail: read back with pdftotext, the QR decoded with
zxing-cpp from the rendered page and verified with the institution's public keys, in English,
French and Chinese (with CJK glyphs); the e-mail goes once the paying transaction commits."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import zxingcpp  # a dev dependency: decodes the QR the way a scanner would
from django.core import mail
from django.db import transaction
from PIL import Image

from cimaise.core.errors import Conflict
from cimaise.core.tests.personas import Cast
from cimaise.core.tests.requirements import unmet
from cimaise.ticketing.codes import code_verify
from cimaise.ticketing.documents import tickets_pdf
from cimaise.ticketing.emails import order_confirmation_enqueue, order_page_url
from cimaise.ticketing.models import Order, Slot, Ticket
from cimaise.ticketing.tests.ticket_factories import (
    PAID_AT,
    Catalogue,
    make_catalogue,
    make_paid_order,
    make_slot,
)
from cimaise.ticketing.tickets import public_keys, tickets_issue, tickets_revoke

pytestmark = pytest.mark.django_db
ACTOR = "system:test"


@pytest.fixture
def catalogue(cast: Cast) -> Catalogue:
    return make_catalogue(cast.institution_a, cast.site_a)


def paid(catalogue: Catalogue, language: str = "en", lines: Any = (("full", 2), ("free", 1))) -> Order:
    slot = Slot.objects.filter(product=catalogue.product).first() or make_slot(catalogue)
    order = make_paid_order(catalogue, slot, lines=lines, language=language)
    tickets_issue(order=order, actor=ACTOR, now=PAID_AT)
    return order


def _tool(name: str, package: str = "poppler-utils") -> str:
    found = shutil.which(name)
    if found is None:
        unmet(f"{name} is missing: install the Debian package {package} (CI does, see .ci/run)")
    return found


def pdf_pages(pdf: bytes, tmp_path: Path) -> list[str]:
    source = tmp_path / "tickets.pdf"
    source.write_bytes(pdf)
    out = subprocess.run([_tool("pdftotext"), "-layout", str(source), "-"], capture_output=True, check=True)
    return out.stdout.decode().split("\f")[:-1]


def pdf_fonts(pdf: bytes, tmp_path: Path) -> str:
    source = tmp_path / "fonts.pdf"
    source.write_bytes(pdf)
    return subprocess.run([_tool("pdffonts"), str(source)], capture_output=True, check=True).stdout.decode()


def qr_codes(pdf: bytes, tmp_path: Path, page: int) -> list[str]:
    """The QR codes zxing-cpp reads on a page rendered at 150 dpi, as a phone would see it."""
    source = tmp_path / "scan.pdf"
    source.write_bytes(pdf)
    prefix = tmp_path / f"scan{page}"
    command = [
        _tool("pdftoppm"),
        "-r",
        "150",
        "-gray",
        "-png",
        "-singlefile",
        "-f",
        str(page),
        "-l",
        str(page),
    ]
    subprocess.run([*command, str(source), str(prefix)], check=True)
    with Image.open(f"{prefix}.png") as image:
        return [found.text for found in zxingcpp.read_barcodes(image) if found.format.name == "QRCode"]


# --- the PDF -----------------------------------------------------------------------------------


def test_each_ticket_has_its_page_with_the_order_the_product_the_slot_and_its_code(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    order = paid(catalogue)
    tickets = list(order.tickets.order_by("id"))
    pages = pdf_pages(tickets_pdf(order=order, language="en"), tmp_path)
    assert len(pages) == 3
    for number, (page, ticket) in enumerate(zip(pages, tickets, strict=True), start=1):
        assert f"Ticket {number} of 3" in page and order.reference in page and "Museum entry" in page
        assert "Thursday Oct. 24, 2019" in " ".join(page.split()) and "09:00 – 09:30" in page
        assert "Pyramide" in page and "Ada Lovelace" in page and ticket.code_id in page
        assert "Musée du Louvre" in page
    assert "Full" in pages[0] and "17.00 EUR" in pages[0] and "Show at the entrance" not in pages[0]
    assert "Free, under 26" in pages[2] and "Free admission" in pages[2]
    assert "Show at the entrance: An identity card" in pages[2]


def test_the_qr_on_the_page_decodes_to_a_code_the_public_keys_accept(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    order = paid(catalogue)
    pdf = tickets_pdf(order=order, language="en")
    tickets = list(order.tickets.order_by("id"))
    keys = public_keys(institution=catalogue.institution)
    for page, ticket in enumerate(tickets, start=1):
        (code,) = qr_codes(pdf, tmp_path, page)
        assert code == ticket.code and code_verify(code, keys).code_id == ticket.code_id


def test_the_french_tickets_speak_french(catalogue: Catalogue, tmp_path: Path) -> None:
    order = paid(catalogue, language="fr")
    text = " ".join(" ".join(pdf_pages(tickets_pdf(order=order, language="fr"), tmp_path)).split())
    assert "Billet 1 sur 3" in text and "Entrée au musée" in text and "Plein tarif" in text
    assert "jeudi 24 octobre 2019" in text and "Créneau horaire" in text and "17,00 EUR" in text
    assert "Une pièce d'identité" in text and "Entrée gratuite" in text


def test_the_chinese_tickets_are_in_chinese_with_cjk_glyphs(catalogue: Catalogue, tmp_path: Path) -> None:
    order = paid(catalogue, language="zh-hans")
    pdf = tickets_pdf(order=order, language="zh-hans")
    text = "".join(pdf_pages(pdf, tmp_path)[2].split())
    assert "门票3/3" in text and "博物馆门票" in text and "入场时段" in text and "入口" in text
    assert "2019年10月24日" in text and "身份证件" in text and order.reference in text
    fonts = pdf_fonts(pdf, tmp_path)
    if "NotoSansCJK" not in fonts.replace("-", ""):
        unmet("no CJK font: install the Debian package fonts-noto-cjk (CI does, see .ci/run)")
    (code,) = qr_codes(pdf, tmp_path, 1)
    assert code_verify(code, public_keys(institution=catalogue.institution))


def test_only_valid_tickets_are_printed_and_an_order_without_any_has_no_pdf(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    order = paid(catalogue)
    first, *rest = order.tickets.order_by("id")
    tickets_revoke(tickets=[first], reason="cancelled", actor=ACTOR, now=PAID_AT)
    pages = pdf_pages(tickets_pdf(order=order, language="en"), tmp_path)
    assert len(pages) == 2 and first.code_id not in "".join(pages) and "Ticket 1 of 2" in pages[0]
    tickets_revoke(tickets=rest, reason="cancelled", actor=ACTOR, now=PAID_AT)
    with pytest.raises(Conflict) as caught:
        tickets_pdf(order=order, language="en")
    assert caught.value.code == "no_tickets"


# --- the e-mail --------------------------------------------------------------------------------


def test_the_confirmation_goes_after_commit_with_the_tickets_attached(
    catalogue: Catalogue, django_capture_on_commit_callbacks: Callable[..., Any], tmp_path: Path
) -> None:
    order = paid(catalogue)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        order_confirmation_enqueue(order.pk)
    assert mail.outbox == [] and len(callbacks) == 1
    callbacks[0]()
    (message,) = mail.outbox
    assert message.to == ["visitor@example.org"]
    assert message.subject == f"Your tickets for Musée du Louvre, order {order.code}"
    url = f"/shop/orders/{order.code}/?key={order.access_key}"
    assert order_page_url(order).endswith(url) and url in message.body
    assert "Hello Ada Lovelace," in message.body and "Thursday Oct. 24, 2019" in message.body
    assert "09:00 – 09:30" in message.body and "Pyramide" in message.body and "34.00 EUR" in message.body
    ((html, kind),) = message.alternatives  # type: ignore[attr-defined]
    assert kind == "text/html" and order.code in html and url.replace("&", "&amp;") in html
    ((name, pdf, mimetype),) = message.attachments
    assert (name, mimetype) == (f"tickets-{order.code}.pdf", "application/pdf")
    text = "".join(pdf_pages(pdf, tmp_path))
    assert order.reference in text and order.code not in text, "a ticket shows only the end of the order code"


def test_the_confirmation_is_in_the_orders_language(
    catalogue: Catalogue, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    french = paid(catalogue, language="fr")
    chinese = paid(catalogue, language="zh-hans")
    with django_capture_on_commit_callbacks(execute=True):
        order_confirmation_enqueue(french.pk)
        order_confirmation_enqueue(chinese.pk)
    fr, zh = mail.outbox
    assert fr.subject == f"Vos billets (Musée du Louvre), commande {french.code}"
    assert "Bonjour Ada Lovelace," in fr.body and "Créneau horaire" in fr.body and "jeudi" in fr.body
    assert zh.subject == f"您在Musée du Louvre的门票，订单 {chinese.code}"
    assert "入场时段" in zh.body and "2019年10月24日" in zh.body


def test_nothing_is_sent_for_a_rolled_back_sale_an_order_without_email_or_unpaid(
    catalogue: Catalogue, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    order = paid(catalogue)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            order_confirmation_enqueue(order.pk)
            raise RuntimeError("the payment failed after all")
    assert callbacks == [] and mail.outbox == []
    no_email = paid(catalogue)
    Order.objects.filter(pk=no_email.pk).update(email="")
    Order.objects.filter(pk=order.pk).update(state=Order.State.REFUNDED)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        order_confirmation_enqueue(order.pk)
        order_confirmation_enqueue(no_email.pk)
    assert len(callbacks) == 2 and mail.outbox == []
    assert Ticket.objects.filter(order=no_email).count() == 3
