"""The purchasing demo: the seven State purchasing-directorate groupings the Louvre joined in 2019,
the regional platform's four needs at the conservation centre in Liévin, the two joint orders with
Louvre-Lens, UGAP, and the framework agreement for the transport of works to Liévin with its
follow-on contracts. Suppliers and SIRET numbers are fictitious (they pass the Luhn check)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from cimaise.core.actors import Actor, actor_for
from cimaise.core.demo import DemoContext, DemoLoader, register_loader
from cimaise.core.models import Institution
from cimaise.purchasing import services
from cimaise.purchasing.models import Vehicle
from cimaise.purchasing.rules import ContractSpec, HolderSpec, luhn_valid

D = dt.date
DAE = "Direction des achats de l'État (DAE)"
PFRA = "Plateforme régionale des achats de l'État Hauts-de-France (SGAR)"


def siret(base: str) -> str:
    """``base`` (13 digits) completed with the digit that makes a valid SIRET."""
    return next(base + str(d) for d in range(10) if luhn_valid(base + str(d)))


BUYER = siret("1800000000001")

# code, name, kind, coordinator, partner, joined on
VEHICLES: list[tuple[str, str, str, str, str, dt.date | None]] = [
    ("DAE-ELEC", "Électricité — marché interministériel", "state-grouping", DAE, "", D(2019, 1, 15)),
    ("DAE-GAZ", "Gaz naturel — marché interministériel", "state-grouping", DAE, "", D(2019, 1, 15)),
    ("DAE-TEL", "Téléphonie fixe et mobile", "state-grouping", DAE, "", D(2019, 3, 1)),
    ("DAE-VOY", "Prestations d'agence de voyages", "state-grouping", DAE, "", D(2019, 4, 1)),
    ("DAE-FOUR", "Fournitures de bureau et papier", "state-grouping", DAE, "", D(2019, 6, 3)),
    ("DAE-POST", "Services postaux et affranchissement", "state-grouping", DAE, "", D(2019, 9, 2)),
    ("DAE-INTER", "Travail temporaire", "state-grouping", DAE, "", D(2019, 11, 4)),
    ("PFRA-HDF", "Plateforme régionale Hauts-de-France", "regional-platform", PFRA, "", D(2019, 10, 1)),
    ("CG-LENS-CONS", "Commande groupée Louvre-Lens — conservation préventive", "joint-order",
     "Musée du Louvre (coordonnateur)", "louvre-lens", D(2019, 5, 20)),
    ("CG-LENS-NAV", "Commande groupée Louvre-Lens — navette Lens–Liévin", "joint-order",
     "Louvre-Lens (coordonnateur)", "louvre-lens", D(2019, 9, 16)),
    ("UGAP", "UGAP — véhicules et matériel de manutention", "ugap", "UGAP", "", D(2019, 2, 11)),
    ("AC-TRANSPORT", "Accord-cadre transport d'œuvres Paris–Liévin", "framework",
     "Musée du Louvre — service des achats", "", None),
]  # fmt: skip

# code, title, category, site, recurring
NEEDS: list[tuple[str, str, str, str, bool]] = [
    ("PAL-ELEC", "Électricité du palais", "energy", "PAL", True),
    ("CCL-ELEC", "Électricité du centre de conservation", "energy", "CCL", True),
    ("PAL-GAZ", "Gaz naturel du palais", "energy", "PAL", True),
    ("PAL-TEL", "Téléphonie et lignes mobiles", "it", "PAL", True),
    ("PAL-VOY", "Déplacements professionnels", "travel", "PAL", True),
    ("PAL-FOUR", "Fournitures de bureau", "supplies", "PAL", True),
    ("PAL-POST", "Affranchissement du courrier", "supplies", "PAL", True),
    ("PAL-INTER", "Renforts temporaires d'accueil", "other", "PAL", True),
    ("CCL-NET", "Nettoyage des locaux du CCL", "cleaning", "CCL", True),
    ("CCL-MAINT", "Maintenance multitechnique du CCL", "maintenance", "CCL", True),
    ("CCL-VERTS", "Entretien des espaces verts du CCL", "maintenance", "CCL", True),
    ("CCL-DECHETS", "Collecte et tri des déchets du CCL", "cleaning", "CCL", True),
    ("CCL-CONS", "Matériaux de conservation préventive", "conservation", "CCL", True),
    ("CCL-NAVETTE", "Navette du personnel Lens–Liévin", "travel", "CCL", True),
    ("CCL-MANUT", "Chariots et matériel de manutention", "supplies", "CCL", False),
    ("PAL-TRANSPORT", "Transport des œuvres vers Liévin", "works-transport", "PAL", True),
    ("CCL-CAPTEURS", "Étalonnage des capteurs climatiques", "conservation", "CCL", True),
]


def _essentials(cpv: str, procedure: str, place: tuple[str, str, str], notified: dt.date) -> dict[str, Any]:
    kind, code, name = place
    return {
        "buyer_siret": BUYER, "procedure": procedure, "cpv_code": cpv, "place_type": kind,
        "place_code": code, "place_name": name, "notified_on": notified, "price_form": "revisable",
    }  # fmt: skip


PARIS = ("postcode", "75001", "Paris")
LIEVIN = ("postcode", "62800", "Liévin")
FRANCE = ("country", "FR", "France")


def _contract(
    ref: str, title: str, vehicle: str, needs: list[str], holder: tuple[str, str], amounts: tuple[str, str],
    period: tuple[dt.date, dt.date], launched: dt.date, essentials: dict[str, Any], **extra: Any,
) -> ContractSpec:  # fmt: skip
    low, high = amounts
    return ContractSpec(
        reference=ref, title=title, vehicle=vehicle, needs=needs,
        holders=[HolderSpec(holder[0], siret(holder[1]))],
        min_amount=Decimal(low) if low else None, max_amount=Decimal(high),
        start_on=period[0], end_on=period[1], launched_on=launched, **essentials, **extra,
    )  # fmt: skip


def contracts() -> list[ContractSpec]:
    """The contracts, a framework agreement before its follow-on contracts."""
    open_ = "open"
    return [
        _contract(
            "DAE-2024-ELEC",
            "Fourniture d'électricité 2024-2026",
            "DAE-ELEC",
            ["PAL-ELEC", "CCL-ELEC"],
            ("Énergies Publiques SA", "5123456780001"),
            ("", "9800000"),
            (D(2024, 1, 1), D(2026, 12, 31)),
            D(2023, 2, 1),
            _essentials("09310000-5", open_, FRANCE, D(2023, 7, 12)),
        ),
        _contract(
            "DAE-2023-GAZ",
            "Fourniture de gaz naturel 2023-2027",
            "DAE-GAZ",
            ["PAL-GAZ"],
            ("Gaz Commun SAS", "4387654320002"),
            ("", "2400000"),
            (D(2023, 7, 1), D(2027, 6, 30)),
            D(2022, 10, 3),
            _essentials("09123000-7", open_, FRANCE, D(2023, 4, 18)),
            nature="framework",
        ),
        _contract(
            "DAE-2022-TEL",
            "Services de télécommunications",
            "DAE-TEL",
            ["PAL-TEL"],
            ("Réseaux Administratifs SA", "3921234560003"),
            ("", "640000"),
            (D(2022, 4, 1), D(2026, 3, 31)),
            D(2021, 6, 14),
            _essentials("64200000-8", open_, FRANCE, D(2022, 2, 25)),
            nature="framework",
        ),
        _contract(
            "DAE-2025-VOY",
            "Agence de voyages de l'État",
            "DAE-VOY",
            ["PAL-VOY"],
            ("Voyages Publics SAS", "8012345670004"),
            ("", "450000"),
            (D(2025, 1, 1), D(2028, 12, 31)),
            D(2024, 1, 22),
            _essentials("63510000-7", open_, FRANCE, D(2024, 10, 8)),
            nature="framework",
        ),
        _contract(
            "DAE-2024-FOUR",
            "Fournitures de bureau et papier",
            "DAE-FOUR",
            ["PAL-FOUR"],
            ("Bureau Service Public SARL", "7234567890001"),
            ("", "85000"),
            (D(2024, 3, 1), D(2028, 2, 29)),
            D(2023, 5, 9),
            _essentials("30192000-1", open_, FRANCE, D(2024, 1, 30)),
            nature="framework",
        ),
        _contract(
            "DAE-2023-POST",
            "Collecte et distribution du courrier",
            "DAE-POST",
            ["PAL-POST"],
            ("Acheminement Postal SA", "6345678900002"),
            ("", "120000"),
            (D(2023, 1, 1), D(2027, 5, 31)),
            D(2022, 3, 1),
            _essentials("64110000-0", "negotiated", FRANCE, D(2022, 11, 15)),
            renewal_on=D(2027, 3, 1),
        ),
        _contract(
            "DAE-2022-INTER",
            "Mise à disposition de personnel intérimaire",
            "DAE-INTER",
            ["PAL-INTER"],
            ("Intérim Solidaire SAS", "4423456780002"),
            ("", "300000"),
            (D(2022, 7, 1), D(2026, 6, 30)),
            D(2021, 9, 6),
            _essentials("79620000-6", open_, FRANCE, D(2022, 5, 10)),
            nature="framework",
        ),
        _contract(
            "PFRA-2023-NET",
            "Nettoyage des locaux — lot Pas-de-Calais",
            "PFRA-HDF",
            ["CCL-NET"],
            ("Propreté Artois SARL", "5534567890003"),
            ("", "360000"),
            (D(2023, 1, 1), D(2026, 12, 31)),
            D(2022, 4, 11),
            _essentials("90910000-9", open_, LIEVIN, D(2022, 10, 20)),
        ),
        _contract(
            "PFRA-2024-MAINT",
            "Maintenance multitechnique des sites de l'État",
            "PFRA-HDF",
            ["CCL-MAINT"],
            ("Maintenance du Nord SAS", "3645678900004"),
            ("100000", "900000"),
            (D(2024, 4, 1), D(2028, 3, 31)),
            D(2023, 6, 5),
            _essentials("50700000-2", open_, LIEVIN, D(2024, 2, 16)),
            nature="framework",
        ),
        _contract(
            "PFRA-2025-VERTS",
            "Entretien des espaces verts",
            "PFRA-HDF",
            ["CCL-VERTS"],
            ("Jardins de l'Artois SCOP", "9156789010001"),
            ("", "38000"),
            (D(2025, 3, 1), D(2027, 2, 28)),
            D(2024, 9, 2),
            {"notified_on": D(2025, 1, 24), "procedure": "adapted"},
        ),
        _contract(
            "PFRA-2024-DECHETS",
            "Collecte et traitement des déchets",
            "PFRA-HDF",
            ["CCL-DECHETS"],
            ("Valorisation Lensoise SA", "8267890120002"),
            ("", "96000"),
            (D(2024, 1, 1), D(2027, 12, 31)),
            D(2023, 3, 13),
            _essentials("90510000-5", open_, LIEVIN, D(2023, 10, 4)),
        ),
        _contract(
            "CG-2023-CONS",
            "Matériaux de conservation préventive",
            "CG-LENS-CONS",
            ["CCL-CONS"],
            ("Conservation Fournitures SARL", "7378901230003"),
            ("20000", "180000"),
            (D(2023, 9, 1), D(2027, 8, 31)),
            D(2023, 1, 16),
            _essentials("44617000-8", open_, LIEVIN, D(2023, 7, 3)),
            nature="framework",
        ),
        _contract(
            "CG-2024-NAV",
            "Navette du personnel entre Lens et Liévin",
            "CG-LENS-NAV",
            ["CCL-NAVETTE"],
            ("Cars de la Gohelle SAS", "6489012340004"),
            ("", "210000"),
            (D(2024, 9, 1), D(2027, 8, 31)),
            D(2024, 1, 8),
            _essentials("60172000-4", open_, LIEVIN, D(2024, 6, 27)),
            renewal_on=D(2027, 2, 26),
        ),
        _contract(
            "UGAP-2025-MANUT",
            "Chariots élévateurs électriques (2)",
            "UGAP",
            ["CCL-MANUT"],
            ("Union des groupements d'achats publics", "5590123450005"),
            ("", "64000"),
            (D(2025, 5, 1), D(2026, 4, 30)),
            D(2025, 2, 3),
            _essentials("42415100-9", "no-notice", LIEVIN, D(2025, 3, 28)),
        ),
        _contract(
            "AC-2019-TRANSPORT",
            "Transport d'œuvres d'art vers le centre de conservation (2019-2023)",
            "AC-TRANSPORT",
            ["PAL-TRANSPORT"],
            ("Art Convoi SAS", "4401122330001"),
            ("2000000", "12000000"),
            (D(2019, 7, 1), D(2023, 6, 30)),
            D(2018, 11, 15),
            _essentials("60100000-9", open_, PARIS, D(2019, 6, 14)),
            nature="framework",
        ),
        _contract(
            "MS-2019-01",
            "Campagne 2019-2020 — premiers convois",
            "AC-TRANSPORT",
            ["PAL-TRANSPORT"],
            ("Art Convoi SAS", "4401122330001"),
            ("", "2800000"),
            (D(2019, 10, 1), D(2020, 9, 30)),
            D(2019, 7, 8),
            _essentials("60100000-9", "negotiated-notice", PARIS, D(2019, 9, 12)),
            nature="subsequent",
            parent="AC-2019-TRANSPORT",
        ),
        _contract(
            "AC-2023-TRANSPORT",
            "Transport d'œuvres d'art entre les réserves parisiennes et le CCL",
            "AC-TRANSPORT",
            ["PAL-TRANSPORT"],
            ("Art Convoi SAS", "4401122330001"),
            ("4000000", "16000000"),
            (D(2023, 7, 1), D(2027, 6, 30)),
            D(2022, 9, 12),
            _essentials("60100000-9", open_, PARIS, D(2023, 5, 22)),
            nature="framework",
            renewal_on=D(2027, 3, 31),
        ),
        _contract(
            "MS-2025-01",
            "Campagne 2025 — réserves Denon et Richelieu",
            "AC-TRANSPORT",
            ["PAL-TRANSPORT"],
            ("Art Convoi SAS", "4401122330001"),
            ("", "3200000"),
            (D(2025, 1, 6), D(2025, 12, 19)),
            D(2024, 10, 1),
            _essentials("60100000-9", "negotiated-notice", PARIS, D(2024, 12, 2)),
            nature="subsequent",
            parent="AC-2023-TRANSPORT",
        ),
        _contract(
            "MS-2026-01",
            "Campagne 2026 — réserves Sully",
            "AC-TRANSPORT",
            ["PAL-TRANSPORT"],
            ("Art Convoi SAS", "4401122330001"),
            ("", "3600000"),
            (D(2026, 1, 5), D(2026, 12, 18)),
            D(2025, 10, 6),
            _essentials("60100000-9", "negotiated-notice", PARIS, D(2025, 12, 1)),
            nature="subsequent",
            parent="AC-2023-TRANSPORT",
        ),
    ]


def _officer() -> Actor:
    from django.contrib.auth.models import User

    actor = actor_for(User.objects.get(username="purchasing"))
    assert actor is not None  # noqa: S101  (core.people ran first)
    return actor


def load(ctx: DemoContext) -> None:
    """Vehicles, needs and contracts through the services (so the demo obeys every rule)."""
    actor = _officer()
    louvre = Institution.objects.get(code="louvre")
    if Vehicle.objects.filter(institution=louvre).exists():
        return
    for code, name, kind, coordinator, partner, joined in ctx.progress(VEHICLES, desc="purchasing vehicles"):
        services.vehicle_create(
            actor=actor,
            code=code,
            name=name,
            kind=kind,
            coordinator=coordinator,
            partner=partner,
            joined_on=joined,
        )
    for code, title, category, site, recurring in ctx.progress(NEEDS, desc="purchasing needs"):
        services.need_create(
            actor=actor, code=code, title=title, category=category, site=site, recurring=recurring
        )
    for spec in ctx.progress(contracts(), desc="contracts"):
        services.contract_save(actor=actor, spec=spec)


register_loader(DemoLoader("purchasing.register", 90, load, "The pooled purchasing register"))
