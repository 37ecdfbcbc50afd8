"""Transfer documents as PDF: the crate label, the convoy manifest, the condition report and the
arrival receipt. Each is read back with pdftotext (its text is extractable) and rasterised with
pdftoppm to decode its barcodes with zxing-cpp; the download routes go through the access gates;
the documents speak the requester's language."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import zxingcpp  # a dev dependency: decodes the barcodes the way a scanner would
from django.conf import settings as django_settings
from django.test import Client, override_settings
from django.urls import include, path
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from cimaise.collection.models import Fragility, Work
from cimaise.config.urls import urlpatterns as project_urls
from cimaise.core.tests.personas import Cast
from cimaise.core.tests.requirements import unmet
from cimaise.moves.documents.codes import code128_encodable, code128_svg, qr_svg
from cimaise.moves.documents.condition import (
    Alteration,
    ConditionReportView,
    Examination,
    Overall,
    Phase,
    Photo,
    comparison,
    condition_report_pdf,
    work_identity,
)
from cimaise.moves.documents.labels import crate_label, crate_label_pdf
from cimaise.moves.documents.manifests import convoy_manifest_pdf
from cimaise.moves.documents.pdf import page_counter_css
from cimaise.moves.documents.receipts import arrival_receipt, arrival_receipt_pdf, seal_checks
from cimaise.moves.models import Crate
from cimaise.moves.services import custody_capture
from cimaise.moves.tests.factories import T0, Transfer, aggregation, full_journey, make_transfer, place

# Until the project's URLs include the documents, these tests mount them where they will live.
urlpatterns = [path("custody/documents/", include("cimaise.moves.urls_documents")), *project_urls]
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

SEALS = ["S-1001", "S-1002"]
NOW = T0 + dt.timedelta(days=2)
LABEL = "/custody/documents/crates/{}/label.pdf"
MANIFEST = "/custody/documents/convoys/{}/manifest.pdf"
RECEIPT = "/custody/documents/convoys/{}/receipt.pdf"


# --- reading PDFs back -------------------------------------------------------------------------


def _tool(name: str, package: str = "poppler-utils") -> str:
    found = shutil.which(name)
    if found is None:
        unmet(f"{name} is missing: install the Debian package {package} (CI does, see .ci/run)")
    return found


def pdf_pages(pdf: bytes, tmp_path: Path) -> list[str]:
    """The text of each page, as pdftotext reads it."""
    source = tmp_path / "document.pdf"
    source.write_bytes(pdf)
    out = subprocess.run([_tool("pdftotext"), "-layout", str(source), "-"], capture_output=True, check=True)
    return out.stdout.decode().split("\f")[:-1]


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    return "\n".join(pdf_pages(pdf, tmp_path))


def page_size_mm(pdf: bytes, tmp_path: Path) -> tuple[float, float]:
    source = tmp_path / "sized.pdf"
    source.write_bytes(pdf)
    info = subprocess.run([_tool("pdfinfo"), str(source)], capture_output=True, check=True).stdout.decode()
    match = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info)
    assert match is not None, info
    return round(float(match[1]) * 25.4 / 72, 1), round(float(match[2]) * 25.4 / 72, 1)


def barcodes(image: Image.Image) -> list[tuple[str, str]]:
    """(format, text) of every barcode zxing-cpp finds in the image."""
    return [(found.format.name, found.text) for found in zxingcpp.read_barcodes(image)]


def decoded(pdf: bytes, tmp_path: Path) -> set[tuple[str, str]]:
    """The barcodes on the first page rendered at 150 dpi, as a scanner would see it printed."""
    source = tmp_path / "scan.pdf"
    source.write_bytes(pdf)
    prefix = tmp_path / "scan"
    command = [_tool("pdftoppm"), "-r", "150", "-gray", "-png", "-singlefile"]
    subprocess.run([*command, "-f", "1", "-l", "1", str(source), str(prefix)], check=True)
    with Image.open(f"{prefix}.png") as image:
        return set(barcodes(image))


# --- the transfer the documents describe -------------------------------------------------------


@pytest.fixture
def travelled(cast: Cast, transfer: Transfer) -> Transfer:
    """The transfer's convoy planned, crewed and sealed, then its journey captured up to
    acclimatisation at the centre (the works are still in their crates)."""
    convoy = transfer.convoy
    convoy.drivers = ["Jean Valjean", "Sophie Germain"]
    convoy.seals = SEALS
    convoy.seals_checked = list(reversed(SEALS))
    convoy.planned_departure = T0 + dt.timedelta(minutes=30)
    convoy.planned_arrival = T0 + dt.timedelta(minutes=200)
    convoy.save()
    convoy.escorts.add(cast.admin_a.person)
    fragile = transfer.works[2]
    fragile.fragility = Fragility.HIGH
    fragile.handling_notes = "Two people, hold by the frame"
    fragile.save()
    custody_capture(actor=cast.registrar_a.actor, payload=full_journey(transfer)[:8])
    return transfer


# --- the crate label ---------------------------------------------------------------------------


def test_a_crate_label_lists_works_shelves_convoy_and_handling_and_its_codes_decode(
    travelled: Transfer, tmp_path: Path
) -> None:
    pdf = crate_label_pdf(travelled.crates[0], lang="en", now=NOW)
    text = pdf_text(pdf, tmp_path)
    assert page_size_mm(pdf, tmp_path) == (100.0, 150.0)
    assert "C000" in text and "CV-001" in text and "CCL" in text
    assert "INV 7520" in text and "INV 7522" in text
    assert "INV 7521" not in text and "INV 7523" not in text  # they travel in the other crate
    assert "CCL-Z1-S1" in text
    assert "This way up" in text and "Fragile, handle with care: High" in text
    assert "INV 7522: Two people, hold by the frame" in text
    assert "Page 1 of 1" in text
    assert decoded(pdf, tmp_path) == {("Code128", "C000"), ("QRCode", "urn:cimaise:crate:louvre:C000")}


def test_a_label_also_lists_what_is_packed_in_the_crate_without_being_on_the_manifest(
    cast: Cast, transfer: Transfer
) -> None:
    stray = Work.objects.create(
        institution=transfer.institution, inventory="OA 10528", title="Stray", department="OA"
    )
    packing = aggregation(transfer.crate(1), [stray.uri], "packing", 5, bizLocation=place(transfer.pal_shelf))
    custody_capture(actor=cast.registrar_a.actor, payload=[packing])
    label = crate_label(transfer.crates[1])
    assert [line.inventory for line in label.works] == ["INV 7521", "INV 7523", "OA 10528"]
    assert [line.target for line in label.works] == ["CCL-Z1-S1", "CCL-Z1-S1", ""]
    assert label.convoy == transfer.convoy and label.shelves == ["CCL-Z1-S1"]


# --- the convoy manifest -----------------------------------------------------------------------


def test_the_manifest_lists_every_crate_work_seal_and_person_and_its_codes_decode(
    travelled: Transfer, tmp_path: Path
) -> None:
    pdf = convoy_manifest_pdf(travelled.convoy, lang="en", now=NOW)
    text = pdf_text(pdf, tmp_path)
    assert page_size_mm(pdf, tmp_path) == (210.0, 297.0)
    for n in range(4):
        assert f"INV {7520 + n}" in text and f"Œuvre {n}" in text
    assert "C000" in text and "C001" in text and "Paintings" in text and "CCL-Z1-S1" in text
    assert "S-1001" in text and "S-1002" in text
    assert "Jean Valjean" in text and "Sophie Germain" in text and "admin-a" in text
    assert "GT-123-XZ" in text and "Palais du Louvre → CCL" in text
    assert "Jan. 6, 2020, 9:30 a.m." in text  # planned departure, Paris time
    assert "Registrar" in text and "Escort" in text and "Reception" in text
    assert "Page 1 of 1" in text
    assert decoded(pdf, tmp_path) == {("Code128", "CV-001"), ("QRCode", "urn:cimaise:convoy:louvre:CV-001")}


def test_a_long_manifest_repeats_its_header_and_numbers_its_pages(cast: Cast, tmp_path: Path) -> None:
    transfer = make_transfer(cast, works=90)
    pages = pdf_pages(convoy_manifest_pdf(transfer.convoy, lang="en"), tmp_path)
    assert len(pages) >= 3
    for number, page in enumerate(pages, start=1):
        assert "Convoy manifest · Convoy CV-001" in page, number
        assert f"Page {number} of {len(pages)}" in page
        assert "Inventory" in page  # the table header comes back on every page
    listed = re.findall(r"INV \d+", "\n".join(pages))
    assert sorted(set(listed)) == sorted(f"INV {7520 + n}" for n in range(90))


# --- the arrival receipt -----------------------------------------------------------------------


def test_the_arrival_receipt_shows_matching_seals_and_every_crate_received(
    travelled: Transfer, tmp_path: Path
) -> None:
    pdf = arrival_receipt_pdf(travelled.convoy, lang="en", now=NOW)
    text = pdf_text(pdf, tmp_path)
    assert "The seals read at opening match those recorded at closing." in text
    assert "S-1001" in text and "S-1002" in text and "mismatch" not in text
    assert re.search(r"C000\s+2\s+✓ received", text) and re.search(r"C001\s+2\s+✓ received", text)
    assert "Works expected: 4" in text and "Works received: 4" in text
    assert "Jan. 6, 2020, 12:20 p.m." in text  # the arriving event, Paris time
    assert "Escort (handing over)" in text and "Reception (receiving)" in text
    assert decoded(pdf, tmp_path) == {("Code128", "CV-001"), ("QRCode", "urn:cimaise:convoy:louvre:CV-001")}


def test_a_seal_mismatch_is_shown_seal_by_seal(travelled: Transfer, tmp_path: Path) -> None:
    travelled.convoy.seals_checked = ["S-1001", "S-9999"]
    travelled.convoy.save()
    receipt = arrival_receipt(travelled.convoy)
    assert not receipt.seals_match
    assert [(s.number, s.at_closing, s.at_opening) for s in receipt.seals] == [
        ("S-1001", True, True),
        ("S-1002", True, False),
        ("S-9999", False, True),
    ]
    text = pdf_text(arrival_receipt_pdf(travelled.convoy, lang="en"), tmp_path)
    assert "Seal mismatch" in text
    assert re.search(r"S-1001\s+yes\s+yes\s+✓ match", text)
    assert re.search(r"S-1002\s+yes\s+no\s+✗ mismatch", text)
    assert re.search(r"S-9999\s+no\s+yes\s+✗ mismatch", text)


def test_a_receipt_before_arrival_shows_nothing_received(transfer: Transfer, tmp_path: Path) -> None:
    transfer.convoy.seals = SEALS
    transfer.convoy.save()
    text = pdf_text(arrival_receipt_pdf(transfer.convoy, lang="en"), tmp_path)
    assert "not recorded yet" in text and "Seals not checked at opening yet." in text
    assert len(re.findall(r"✗ not received", text)) == 2
    assert "Works expected: 4" in text and "Works received: 0" in text


def test_seals_are_compared_as_sets_in_closing_order() -> None:
    assert all(s.matches for s in seal_checks(["A", "B"], ["B", "A"]))
    assert [s.number for s in seal_checks(["B", "A"], ["C", "A"])] == ["B", "A", "C"]


# --- the condition report ----------------------------------------------------------------------

SHA_BEFORE = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
SHA_AFTER = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"


def report_view(work: Work, *, after: bool = True) -> ConditionReportView:
    before = Examination(
        phase=Phase.BEFORE,
        overall=Overall.GOOD,
        examiner="Marie Curie",
        examined_at=T0,
        alterations=(Alteration("frame, lower left", "scratch", "2 cm, old"),),
        photos=(Photo("front.jpg", SHA_BEFORE, "front"),),
    )
    arrived = Examination(
        phase=Phase.AFTER,
        overall=Overall.FAIR,
        examiner="Paul Langevin",
        examined_at=T0 + dt.timedelta(days=1),
        alterations=(
            Alteration("frame, lower left", "scratch", "2 cm, old"),
            Alteration("paint layer, centre", "lifting flake", "3 mm"),
        ),
        photos=(Photo("centre.jpg", SHA_AFTER, "paint layer, centre"),),
    )
    return ConditionReportView(
        work=work_identity(work),
        examinations=(before, arrived) if after else (before,),
        convoy_code="CV-001",
        printed_at=NOW,
    )


def test_the_condition_report_compares_both_phases(transfer: Transfer, tmp_path: Path) -> None:
    view = report_view(transfer.works[0])
    text = pdf_text(condition_report_pdf(view, lang="en"), tmp_path)
    assert (
        "INV 7520" in text
        and "Œuvre 0" in text
        and "Paintings" in text
        and "50 × 40 × 5 cm" in text
        and "8 kg" in text
    )
    assert "Before departure" in text and "After arrival" in text and "CV-001" in text
    assert "Marie Curie" in text and "Paul Langevin" in text and "Good → Fair" in text
    assert SHA_BEFORE in text.replace("\n", "").replace(" ", "") and SHA_AFTER in text.replace(" ", "")
    assert "Changed since departure: new or worse alterations." in text
    found = comparison(view)
    assert found is not None and [[a.kind for a in zone.new] for zone in found.zones] == [
        [],
        ["lifting flake"],
    ]


def test_a_single_phase_report_has_no_comparison(transfer: Transfer, tmp_path: Path) -> None:
    view = report_view(transfer.works[0], after=False)
    pdf = condition_report_pdf(view, lang="en")
    text = pdf_text(pdf, tmp_path)
    assert "Before departure" in text and "After arrival" not in text and "Comparison" not in text
    assert decoded(pdf, tmp_path) == {("QRCode", "urn:cimaise:work:louvre:INV%207520")}


# --- the download routes -----------------------------------------------------------------------


def test_a_registrar_downloads_each_document(cast: Cast, travelled: Transfer, tmp_path: Path) -> None:
    client = cast.registrar_a.session_client()
    for url, expected in (
        (LABEL.format("C000"), "INV 7520"),
        (MANIFEST.format("CV-001"), "S-1002"),
        (RECEIPT.format("CV-001"), "Works received: 4"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("attachment; filename=")
        assert expected in pdf_text(response.content, tmp_path), url


def test_the_routes_refuse_other_roles_and_hide_other_institutions(cast: Cast, transfer: Transfer) -> None:
    Crate.objects.create(institution=cast.institution_b, barcode="ORS-1")
    urls = (LABEL.format("C000"), MANIFEST.format("CV-001"), RECEIPT.format("CV-001"))
    gate = cast.gate_agent_a.session_client()
    assert [gate.get(url).status_code for url in urls] == [403, 403, 403]
    for persona in (cast.partner_b, cast.outsider):
        client = persona.session_client()
        assert [client.get(url).status_code for url in urls] == [404, 404, 404], persona.username
    registrar = cast.registrar_a.session_client()
    assert registrar.get(LABEL.format("ORS-1")).status_code == 404
    assert registrar.get(MANIFEST.format("CV-999")).status_code == 404
    assert registrar.get(LABEL.format("C000") + "?convoy=CV-999").status_code == 404


def test_the_routes_send_anonymous_visitors_to_the_login_page(
    anon_client: Client, transfer: Transfer
) -> None:
    for url in (LABEL.format("C000"), MANIFEST.format("CV-001"), RECEIPT.format("CV-001")):
        response = anon_client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url


# --- French ------------------------------------------------------------------------------------

FRAGMENT = Path(__file__).resolve().parents[1] / "documents" / "fr.po"


@pytest.fixture
def french(tmp_path: Path) -> Iterator[None]:
    """The project's French catalog, plus the documents' own strings while they wait in
    ``documents/fr.po`` to be merged into it."""
    if not FRAGMENT.exists():
        yield
        return
    catalog = tmp_path / "locale" / "fr" / "LC_MESSAGES"
    catalog.mkdir(parents=True)
    subprocess.run([_tool("msgfmt", "gettext"), "-o", str(catalog / "django.mo"), str(FRAGMENT)], check=True)
    with override_settings(LOCALE_PATHS=[*django_settings.LOCALE_PATHS, tmp_path / "locale"]):
        yield


def test_the_documents_speak_the_requesters_language(
    cast: Cast, travelled: Transfer, french: None, tmp_path: Path
) -> None:
    client = cast.registrar_a.session_client()
    manifest = pdf_text(
        client.get(MANIFEST.format("CV-001"), headers={"Accept-Language": "fr"}).content, tmp_path
    )
    assert "Bordereau de convoi" in manifest and "Page 1 sur 1" in manifest and "Chauffeurs" in manifest
    assert "Peintures" in manifest and "6 janvier 2020 09:30" in manifest and "Régisseur" in manifest
    label = pdf_text(client.get(LABEL.format("C000"), headers={"Accept-Language": "fr"}).content, tmp_path)
    assert "Ce côté vers le haut" in label and "Étagères de destination" in label
    receipt = pdf_text(arrival_receipt_pdf(travelled.convoy, lang="fr"), tmp_path)
    assert "Récépissé d'arrivée" in receipt and "Scellés" in receipt and "reçue" in receipt
    report = pdf_text(condition_report_pdf(report_view(travelled.works[0]), lang="fr"), tmp_path)
    assert "Constat d'état" in report and "Avant le départ" in report and "Bon → Moyen" in report
    english = pdf_text(
        client.get(MANIFEST.format("CV-001"), headers={"Accept-Language": "en"}).content, tmp_path
    )
    assert "Convoy manifest" in english and "Drivers" in english


# --- the codes themselves ----------------------------------------------------------------------

_RECT = re.compile(r"M([\d.]+) ([\d.]+)h([\d.]+)v([\d.]+)h-[\d.]+z")


def rasterise(svg: str, scale: int = 4) -> Image.Image:
    """Our SVG codes are filled rectangles in a viewBox: draw them, quiet zones included."""
    view = re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg)
    assert view is not None
    width, height = (int(float(v) * scale) for v in view.groups())
    image = Image.new("L", (width, max(height, 40)), 255)
    draw = ImageDraw.Draw(image)
    for x, y, w, h in (map(float, m) for m in _RECT.findall(svg)):
        draw.rectangle([x * scale, y * scale, (x + w) * scale - 1, (y + h) * scale - 1], fill=0)
    return image


@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=40))
@settings(max_examples=60, deadline=None)
def test_any_printable_ascii_code128_reads_back(value: str) -> None:
    assert barcodes(rasterise(code128_svg(value, height_mm=5))) == [("Code128", value)]


@given(st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=120))
@settings(max_examples=60, deadline=None)
def test_any_uri_qr_reads_back_and_is_never_micro(value: str) -> None:
    assert barcodes(rasterise(qr_svg(value))) == [("QRCode", value)]


@pytest.mark.parametrize("value", ["99", "999", "99A", "9", "00", "C-0099"])
def test_values_starting_with_99_read_back_whole(value: str) -> None:
    """python-barcode's set switching misread these ("999" came back as "9")."""
    assert barcodes(rasterise(code128_svg(value, height_mm=5))) == [("Code128", value)]


def test_code128_refuses_what_it_cannot_carry() -> None:
    assert not code128_encodable("") and not code128_encodable("CAISSE-É1") and code128_encodable("C-001/2")
    with pytest.raises(ValueError, match="Code 128 cannot carry"):
        code128_svg("CAISSE-É1")


def test_the_page_counter_follows_the_translated_sentence() -> None:
    assert page_counter_css() == '"Page " counter(page) " of " counter(pages)'


def test_the_condition_report_pdf_sets_the_stored_reports_side_by_side(
    cast: Cast, transfer: Transfer, tmp_path: Path
) -> None:
    from cimaise.moves.condition import condition_report_record

    work, actor = transfer.works[0], cast.registrar_a.actor
    url = f"/custody/documents/works/{work.inventory}/condition.pdf"
    assert cast.registrar_a.session_client().get(url).status_code == 404  # nothing examined yet
    frame = {"zone": "frame", "kind": "scratch", "description": "lower left corner"}
    condition_report_record(actor=actor, work=work, phase="before", overall=1, alterations=[frame])
    tear = {"zone": "canvas", "kind": "tear"}
    condition_report_record(actor=actor, work=work, phase="after", overall=2, alterations=[frame, tear])
    response = cast.registrar_a.session_client().get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content, tmp_path)
    assert work.inventory in text and "lower left corner" in text and "tear" in text
    assert cast.gate_agent_a.session_client().get(url).status_code == 403
    assert cast.partner_b.session_client().get(url).status_code == 404
