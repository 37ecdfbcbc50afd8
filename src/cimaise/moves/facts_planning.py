"""Fact types recorded by transfer planning: addressing runs, target overrides, packing."""

from cimaise.ledger.types import register

ADDRESSING_STARTED = register(
    "moves.addressing.started",
    "A registrar started a programme's addressing run (sources, destination zones in order, "
    "department zones, headroom, batch size).",
)
ADDRESSING_BATCH_APPLIED = register(
    "moves.addressing.batch_applied",
    "One batch of an addressing run was applied (batch number, each work's target place, the "
    "works flagged with why, whether the run is done).",
)
ADDRESSING_PAUSED = register(
    "moves.addressing.paused",
    "A programme's addressing run was paused (with the reason); its state is kept.",
)
ADDRESSING_RESUMED = register(
    "moves.addressing.resumed",
    "A paused addressing run was resumed where it stopped.",
)
TARGET_OVERRIDDEN = register(
    "moves.addressing.target_overridden",
    "A registrar set a work's target place by hand (programme, work, old and new place, reason).",
)
PACKING_PLANNED = register(
    "moves.packing.planned",
    "A convoy's works were assigned to crates (each crate's works with their position, and the "
    "works that travel alone or could not be packed, with why).",
)
