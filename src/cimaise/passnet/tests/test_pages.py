"""The pass network's pages: the holder's pass, the operator's dashboard, a partner's portal,
statements as PDF and CSV; who may see which."""

from __future__ import annotations

import datetime as dt

from django.test import Client

from cimaise.passnet.settlement import settlement_issue
from cimaise.passnet.tests.conftest import PARIS, Network

MARCH_10 = dt.datetime(2026, 3, 10, 11, 0, tzinfo=PARIS)


def test_the_holder_sees_the_pass_on_a_phone_and_prints_it(network: Network) -> None:
    (p,) = network.issue(holder_name="Jeanne Martin")
    page = Client().get(f"/passnet/p/{p.code_id}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and "Jeanne Martin" in html and "Not used yet" in html
    assert 'name="viewport"' in html
    network.scan("ORSAY", p.code, MARCH_10)
    assert "Valid until 12 March 2026 11:00" in Client().get(f"/passnet/p/{p.code_id}/").content.decode()
    pdf = Client().get(f"/passnet/p/{p.code_id}/pass.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert Client().get("/passnet/p/00000000000000000000000000000000/").status_code == 404


def test_the_pass_page_speaks_french(network: Network) -> None:
    (p,) = network.issue()
    client = Client(headers={"Accept-Language": "fr"})
    html = client.get(f"/passnet/p/{p.code_id}/").content.decode()
    assert 'lang="fr"' in html and "Pas encore utilisé" in html


def test_the_operator_sees_the_network_and_partners_their_portal(network: Network) -> None:
    passes = network.issue(quantity=2)
    network.scan("ORSAY", passes[0].code, MARCH_10)
    network.scan("VERSAILLES", passes[0].code, MARCH_10 + dt.timedelta(minutes=10))
    network.scan("ORSAY", "junk", MARCH_10)
    operator = network.pass_operator.session_client()
    dashboard = operator.get("/passnet/")
    assert dashboard.status_code == 200
    assert b'data-site="ORSAY"' in dashboard.content
    partner = network.cast.partner_b.session_client()
    portal = partner.get("/passnet/site/")
    assert portal.status_code == 200
    assert b'data-site="ORSAY"' in portal.content and b'data-reason="forged"' in portal.content
    assert b'data-site="VERSAILLES"' not in portal.content
    assert partner.get("/passnet/").status_code == 403
    assert operator.get("/passnet/site/").status_code == 403
    assert Client().get("/passnet/").status_code == 302


def test_statements_as_pdf_and_csv_for_the_site_and_the_operator_only(network: Network) -> None:
    (p,) = network.issue()
    network.scan("ORSAY", p.code, MARCH_10)
    settlement_issue(actor=network.pass_operator.actor, month="2026-03", now=MARCH_10 + dt.timedelta(days=30))
    partner = network.cast.partner_b.session_client()
    csv = partner.get("/passnet/statements/2026-03/ORSAY.csv")
    assert csv.status_code == 200
    lines = csv.content.decode().splitlines()
    assert lines[0].startswith("month,site") and lines[1].startswith("2026-03,ORSAY,")
    assert lines[1].endswith(",visits,2026-03,1,52.70,EUR")
    pdf = partner.get("/passnet/statements/2026-03/ORSAY.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert partner.get("/passnet/statements/2026-03/VERSAILLES.csv").status_code == 404
    assert (
        network.pass_operator.session_client().get("/passnet/statements/2026-03/VERSAILLES.csv").status_code
        == 200
    )
