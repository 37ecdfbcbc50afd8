"""Core's demo: the Louvre, its partners, their sites, the place tree, one user per role."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction

from cimaise.core import services
from cimaise.core.demo import DEMO_PASSWORD, DemoContext, DemoLoader, register_loader
from cimaise.core.models import Institution, Person, Place, Site
from cimaise.core.roles import Role
from cimaise.core.services import PlaceSpec

ACTOR = "system:demo"

# code, name, kind, city, [(site code, site name, site kind, city, lat, lon, public)]
INSTITUTIONS: list[tuple[str, str, str, str, list[tuple[str, str, str, str, str, str, bool]]]] = [
    (
        "louvre",
        "Musée du Louvre",
        "museum",
        "Paris",
        [
            ("PAL", "Palais du Louvre", "museum", "Paris", "48.860611", "2.337644", True),
            (
                "CCL",
                "Centre de conservation du Louvre",
                "conservation-centre",
                "Liévin",
                "50.418600",
                "2.781700",
                False,
            ),
        ],
    ),
    (
        "louvre-lens",
        "Louvre-Lens",
        "museum",
        "Lens",
        [
            ("LENS", "Louvre-Lens", "museum", "Lens", "50.431600", "2.804000", True),
        ],
    ),
    (
        "pmp",
        "Paris Museum Pass",
        "pass-operator",
        "Paris",
        [
            ("PMP-HQ", "Paris Museum Pass office", "office", "Paris", "48.857000", "2.352000", False),
        ],
    ),
    (
        "orsay",
        "Musée d'Orsay",
        "museum",
        "Paris",
        [
            ("ORSAY", "Musée d'Orsay", "museum", "Paris", "48.859961", "2.326561", True),
        ],
    ),
    (
        "orangerie",
        "Musée de l'Orangerie",
        "museum",
        "Paris",
        [
            ("ORANGERIE", "Musée de l'Orangerie", "museum", "Paris", "48.863788", "2.322672", True),
        ],
    ),
    (
        "rodin",
        "Musée Rodin",
        "museum",
        "Paris",
        [
            ("RODIN", "Musée Rodin", "museum", "Paris", "48.855342", "2.315823", True),
        ],
    ),
    (
        "quai-branly",
        "Musée du quai Branly – Jacques Chirac",
        "museum",
        "Paris",
        [
            ("BRANLY", "Musée du quai Branly", "museum", "Paris", "48.860857", "2.297675", True),
        ],
    ),
    (
        "cmn",
        "Centre des monuments nationaux",
        "monument",
        "Paris",
        [
            ("ARC", "Arc de Triomphe", "monument", "Paris", "48.873792", "2.295028", True),
            ("SAINTE-CHAPELLE", "Sainte-Chapelle", "monument", "Paris", "48.855392", "2.345003", True),
            ("CONCIERGERIE", "Conciergerie", "monument", "Paris", "48.856024", "2.345634", True),
            ("PANTHEON", "Panthéon", "monument", "Paris", "48.846225", "2.346207", True),
        ],
    ),
    (
        "versailles",
        "Château de Versailles",
        "monument",
        "Versailles",
        [
            ("VERSAILLES", "Château de Versailles", "monument", "Versailles", "48.804865", "2.120355", True),
        ],
    ),
]

# username, first, last, institution, roles, job, home site
USERS: list[tuple[str, str, str, str, list[Role], str, str | None]] = [
    ("registrar", "Claire", "Moreau", "louvre", [Role.REGISTRAR], "Régisseuse des œuvres", "PAL"),
    ("escort", "Julien", "Petit", "louvre", [Role.ESCORT], "Convoyeur", "PAL"),
    ("reception", "Nadia", "Benali", "louvre", [Role.RECEPTION], "Accueil du CCL", "CCL"),
    ("approver", "Marc", "Lefèvre", "louvre", [Role.APPROVER], "Chef du service des réserves", "PAL"),
    (
        "budget-manager",
        "Sophie",
        "Garnier",
        "louvre",
        [Role.BUDGET_MANAGER],
        "Gestionnaire budgétaire",
        "PAL",
    ),
    (
        "ticketing-manager",
        "Thomas",
        "Roux",
        "louvre",
        [Role.TICKETING_MANAGER],
        "Responsable billetterie",
        "PAL",
    ),
    (
        "gate-agent",
        "Karim",
        "Haddad",
        "louvre",
        [Role.GATE_AGENT],
        "Agent d'accueil et de surveillance",
        "PAL",
    ),
    (
        "gate-supervisor",
        "Élise",
        "Fontaine",
        "louvre",
        [Role.GATE_SUPERVISOR],
        "Cheffe de secteur accueil",
        "PAL",
    ),
    ("pass-operator", "Paul", "Durand", "pmp", [Role.PASS_OPERATOR], "Opérateur du pass", "PMP-HQ"),
    ("partner-orsay", "Inès", "Marchand", "orsay", [Role.PARTNER_SITE], "Contrôle d'accès", "ORSAY"),
    ("analyst", "Camille", "Bernard", "louvre", [Role.ANALYST], "Analyste de la fréquentation", "PAL"),
    ("purchasing", "Hélène", "Mercier", "louvre", [Role.PURCHASING], "Acheteuse", "PAL"),
    ("admin", "Antoine", "Lambert", "louvre", [Role.ADMIN], "Administrateur", "PAL"),
]

PALACE_WINGS = [("DEN", "Denon"), ("RIC", "Richelieu"), ("SUL", "Sully")]
CCL_ZONES = [
    ("Z1", "Zone 1 — peintures"),
    ("Z2", "Zone 2 — sculptures"),
    ("Z3", "Zone 3 — objets d'art"),
    ("Z4", "Zone 4 — antiquités"),
    ("Z5", "Zone 5 — arts graphiques"),
    ("Z6", "Zone 6 — quarantaine et acclimatation"),
]


@transaction.atomic(durable=True)
def load_institutions(ctx: DemoContext) -> None:
    for code, name, kind, city, sites in ctx.progress(INSTITUTIONS, desc="institutions"):
        institution, _ = Institution.objects.get_or_create(
            code=code, defaults={"name": name, "kind": kind, "city": city}
        )
        for scode, sname, skind, scity, lat, lon, public in sites:
            Site.objects.get_or_create(
                institution=institution,
                code=scode,
                defaults={
                    "name": sname,
                    "kind": skind,
                    "city": scity,
                    "latitude": Decimal(lat),
                    "longitude": Decimal(lon),
                    "open_to_public": public,
                    "capacity": 60 if skind == "conservation-centre" else None,
                },
            )


class _Tree:
    """Adds places under one site, skipping those that exist (so a second run adds nothing)."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.institution = site.institution
        self.existing = {p.code: p for p in Place.objects.filter(institution=self.institution)}
        self.barcodes = Place.objects.filter(institution=self.institution).exclude(barcode=None).count()

    def add(self, code: str, name: str, kind: str, parent: Place | None, **dims: Decimal) -> Place:
        return self.add_many([(code, name, kind, parent, dims)])[0]

    def add_many(self, rows: list[tuple[str, str, str, Place | None, dict[str, Decimal]]]) -> list[Place]:
        """Places in one batch (their parents exist already); those that exist are returned as is."""
        specs = []
        for code, name, kind, parent, dims in rows:
            if code in self.existing:
                continue
            barcode = None
            if kind in (Place.Kind.UNIT, Place.Kind.SHELF):
                self.barcodes += 1
                barcode = f"P{self.institution.pk:02d}{self.barcodes:07d}"
            specs.append(
                PlaceSpec(
                    code=code, name=name, kind=kind, site=self.site, parent=parent, barcode=barcode, **dims
                )
            )
        made = services.places_create_unchecked(institution=self.institution, specs=specs, actor=ACTOR)
        self.existing.update({place.code: place for place in made})
        return [self.existing[row[0]] for row in rows]


SHELF_DIMS = {
    "inner_width_cm": Decimal("200.0"),
    "inner_depth_cm": Decimal("80.0"),
    "inner_height_cm": Decimal("60.0"),
    "load_limit_kg": Decimal("300.0"),
}
UNIT_DIMS = {"load_limit_kg": Decimal("1500.0")}
# the conservation centre's heavy-duty racks
CCL_SHELF_DIMS = {
    "inner_width_cm": Decimal("250.0"),
    "inner_depth_cm": Decimal("100.0"),
    "inner_height_cm": Decimal("80.0"),
    "load_limit_kg": Decimal("600.0"),
}


def _units(tree: _Tree, room: Place, units: int, shelves: int, dims: dict[str, Decimal] = SHELF_DIMS) -> None:
    racks = tree.add_many(
        [
            (f"{room.code}-U{u:02d}", f"Rayonnage {u}", Place.Kind.UNIT, room, UNIT_DIMS)
            for u in range(1, units + 1)
        ]
    )
    tree.add_many(
        [
            (f"{unit.code}-S{s}", f"Tablette {s}", Place.Kind.SHELF, unit, dims)
            for unit in racks
            for s in range(1, shelves + 1)
        ]
    )


@transaction.atomic(durable=True)
def load_places(ctx: DemoContext) -> None:
    louvre = Institution.objects.get(code="louvre")
    palace = _Tree(Site.objects.get(institution=louvre, code="PAL"))
    # full: the 68 reserves the transfer programme empties (23 + 23 + 22 rooms)
    rooms, units, shelves = ((23, 23, 22), 6, 5) if ctx.full else ((2, 2, 2), 2, 3)
    for (wing, wname), wing_rooms in ctx.progress(
        list(zip(PALACE_WINGS, rooms, strict=True)), desc="palace reserves"
    ):
        building = palace.add(f"PAL-{wing}", f"Aile {wname}", Place.Kind.BUILDING, None)
        level = palace.add(f"PAL-{wing}-N2", f"{wname}, niveau -2", Place.Kind.LEVEL, building)
        for r in range(1, wing_rooms + 1):
            room = palace.add(f"{level.code}-R{r:02d}", f"Réserve {wing} {r}", Place.Kind.ROOM, level)
            _units(palace, room, units, shelves)
    ccl = _Tree(Site.objects.get(institution=louvre, code="CCL"))
    building = ccl.add("CCL-B1", "Bâtiment principal", Place.Kind.BUILDING, None)
    level = ccl.add("CCL-B1-L0", "Rez-de-chaussée", Place.Kind.LEVEL, building)
    units, shelves = (250, 8) if ctx.full else (8, 6)
    for zone, zname in ctx.progress(CCL_ZONES, desc="conservation centre"):
        room = ccl.add(f"CCL-{zone}", zname, Place.Kind.ROOM, level)
        _units(ccl, room, units, shelves, CCL_SHELF_DIMS)


def load_people(ctx: DemoContext) -> None:
    user_model = get_user_model()
    password_hash = make_password(DEMO_PASSWORD)
    for username, first, last, inst_code, roles, job, site_code in ctx.progress(USERS, desc="people"):
        if user_model.objects.filter(username=username).exists():
            continue
        institution = Institution.objects.get(code=inst_code)
        services.person_enroll(
            username=username,
            institution=institution,
            roles=roles,
            password=None,
            password_hash=password_hash,
            first_name=first,
            last_name=last,
            email=f"{username}@demo.cimaise.invalid",
            job_title=job,
            home_site=Site.objects.filter(institution=institution, code=site_code).first(),
            actor=ACTOR,
        )
    approver = Person.objects.get(user__username="approver")
    Person.objects.filter(
        user__username__in=["registrar", "escort", "reception", "purchasing"], line_manager=None
    ).update(line_manager=approver)


register_loader(DemoLoader("core.institutions", 10, load_institutions, "Institutions and their sites"))
register_loader(DemoLoader("core.places", 20, load_places, "The palace reserves and the centre's shelves"))
register_loader(DemoLoader("core.people", 30, load_people, "One user per role, password 'demo'"))
