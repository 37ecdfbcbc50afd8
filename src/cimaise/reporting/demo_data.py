"""The reporting demo: the synthetic visits (a slice at ``small``, 2018–2019 in full at ``full``,
see ``synthetic``) and a first build of the demo database's own facts."""

from __future__ import annotations

from cimaise.core.demo import DemoContext, DemoLoader, register_loader
from cimaise.reporting import synthetic
from cimaise.reporting.build import facts_build


def load_reporting(ctx: DemoContext) -> None:
    span = synthetic.FULL if ctx.full else synthetic.SMALL
    for _step in ctx.progress([span], desc="reporting: synthetic visits", total=1):
        synthetic.synthetic_write(span)
    facts_build()


register_loader(
    DemoLoader("reporting.facts", 90, load_reporting, "A year of visits in the 2019 shape, and a first build")
)
