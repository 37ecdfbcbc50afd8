"""Demo works: realistic inventory numbers, departments, dimensions and weights, each with a
normal place in the palace reserves. ``small`` = 5,000 works, ``full`` = 250,000."""

from __future__ import annotations

import csv
import io
import random

from cimaise.collection.csvio import COLUMNS
from cimaise.collection.services import works_import_unchecked
from cimaise.core.demo import DemoContext, DemoLoader, register_loader
from cimaise.core.models import Institution, Place

# department: (share, inventory prefixes, titles, (h, w, d) ranges in cm, kg per litre, fragility weights)
PROFILES: dict[str, tuple[float, list[str], list[str], tuple[int, int, int], float]] = {
    "PEI": (
        0.10,
        ["INV", "RF", "MI"],
        ["Portrait", "Paysage", "Nature morte", "Scène de genre"],
        (180, 220, 12),
        0.04,
    ),
    "AG": (0.25, ["INV", "RF"], ["Étude", "Esquisse", "Dessin", "Gravure"], (60, 50, 4), 0.02),
    "OA": (0.15, ["OA", "MR"], ["Coupe", "Plat", "Aiguière", "Coffret"], (50, 40, 40), 0.3),
    "AE": (0.12, ["E", "N", "AF"], ["Statuette", "Amulette", "Vase", "Stèle"], (60, 30, 30), 0.8),
    "AO": (0.10, ["AO", "Sb"], ["Tablette", "Sceau-cylindre", "Relief", "Vase"], (50, 40, 30), 0.8),
    "AGER": (0.12, ["MA", "Cp", "Bj"], ["Tête", "Lécythe", "Cratère", "Fragment"], (70, 40, 40), 0.9),
    "SCU": (0.06, ["RF", "LP", "MR"], ["Buste", "Statue", "Bas-relief", "Modèle"], (120, 60, 60), 1.2),
    "AI": (0.07, ["MAO", "OA"], ["Carreau", "Bol", "Tapis", "Lampe"], (60, 50, 30), 0.3),
    "HL": (
        0.03,
        ["OAR", "HL"],
        ["Élément de décor", "Maquette", "Fragment architectural"],
        (90, 60, 40),
        0.7,
    ),
}
FRAGILITY = (["low", "medium", "high", "extreme"], [0.35, 0.45, 0.17, 0.03])
BATCH = 5_000


def _row(rng: random.Random, number: int, shelves: list[str]) -> list[object]:
    department = rng.choices(list(PROFILES), weights=[p[0] for p in PROFILES.values()])[0]
    _share, prefixes, titles, (h, w, d), density = PROFILES[department]
    prefix = rng.choice(prefixes)
    inventory = f"{prefix} {1900 + number % 120} {number}" if prefix == "RF" else f"{prefix} {number}"
    height, width, depth = (round(rng.uniform(0.15, 1.0) * size, 1) for size in (h, w, d))
    weight = max(0.05, round(height * width * depth / 1000 * density * rng.uniform(0.5, 1.5), 2))
    fragility = rng.choices(*FRAGILITY)[0]
    value = rng.choice([5_000, 20_000, 80_000, 250_000, 1_000_000])
    row = {
        "inventory": inventory, "title": f"{rng.choice(titles)} ({department} {number})",
        "department": department, "height_cm": height, "width_cm": width, "depth_cm": depth,
        "weight_kg": weight, "fragility": fragility, "normal_place": rng.choice(shelves),
        "barcode": f"W{number:08d}", "insurance_value": value,
    }  # fmt: skip
    return [row.get(column, "") for column in COLUMNS]


def load_works(ctx: DemoContext) -> None:
    louvre = Institution.objects.get(code="louvre")
    shelves = list(
        Place.objects.filter(institution=louvre, kind=Place.Kind.SHELF, site__code="PAL").values_list(
            "code", flat=True
        )
    )
    total = 250_000 if ctx.full else 5_000
    rng = random.Random(2019)  # noqa: S311  (demo data, not security)
    for start in ctx.progress(range(0, total, BATCH), desc="works", total=total // BATCH):
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        writer.writerows(_row(rng, n, shelves) for n in range(start + 1, min(start + BATCH, total) + 1))
        report = works_import_unchecked(institution=louvre, text=out.getvalue(), actor="system:demo")
        if not report.ok:
            raise RuntimeError(f"demo works rejected: {report.errors[:3]}")


register_loader(DemoLoader("collection.works", 40, load_works, "Works with their normal places"))
