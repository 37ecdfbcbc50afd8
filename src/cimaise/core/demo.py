"""The demo registry: each app adds a loader; ``cimaise demo`` runs them in order, once each."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TextIO, TypeVar

from tqdm import tqdm

T = TypeVar("T")

SCALES = ("small", "full")
DEMO_PASSWORD = "demo"  # noqa: S105  (demo databases only; see cimaise demo)


@dataclass
class DemoContext:
    """What a loader gets: the scale and a progress-bar factory writing to the console."""

    scale: str
    stream: TextIO | None = None
    quiet: bool = False

    def progress(self, items: Iterable[T], *, desc: str, total: int | None = None) -> Iterator[T]:
        return iter(
            tqdm(items, desc=desc, total=total, unit="row", file=self.stream, disable=self.quiet, leave=False)
        )

    @property
    def full(self) -> bool:
        return self.scale == "full"


@dataclass(frozen=True)
class DemoLoader:
    """``load`` must be idempotent: run twice, it adds nothing the second time."""

    name: str
    order: int
    load: Callable[[DemoContext], None]
    doc: str


_LOADERS: dict[str, DemoLoader] = {}


def register_loader(loader: DemoLoader) -> None:
    _LOADERS[loader.name] = loader


def loaders() -> list[DemoLoader]:
    return sorted(_LOADERS.values(), key=lambda loader: (loader.order, loader.name))


class NotADemoDatabase(Exception):
    """The database holds real data: the demo will not add its well-known logins to it."""


def demo_run(ctx: DemoContext) -> list[str]:
    """Run every loader not yet run at this scale; returns the names of those that ran."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from cimaise.core.models import DemoLoad, Installation

    installation = Installation.objects.first()
    if installation is None:
        if get_user_model().objects.exists():
            raise NotADemoDatabase("this database has users but is not a demo database")
        installation = Installation.objects.create(is_demo=True)
    elif not installation.is_demo:
        raise NotADemoDatabase("this database is not a demo database")
    done = set(DemoLoad.objects.filter(scale=ctx.scale).values_list("loader", flat=True))
    ran = []
    for loader in tqdm(loaders(), desc="demo", unit="step", file=ctx.stream, disable=ctx.quiet):
        if loader.name in done:
            continue
        loader.load(ctx)
        DemoLoad.objects.create(loader=loader.name, scale=ctx.scale, loaded_at=timezone.now())
        ran.append(loader.name)
    Installation.objects.filter(pk=installation.pk).update(
        demo_scale=ctx.scale, demo_loaded_at=timezone.now()
    )
    return ran
