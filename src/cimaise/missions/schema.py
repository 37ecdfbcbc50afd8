"""Database-level guards the migration installs: the access register is append-only (triggers
refuse UPDATE and DELETE on PostgreSQL, UPDATE on SQLite), and the default allowance rates are
loaded."""

from __future__ import annotations

from typing import Any

TABLE = "missions_accessrecord"

_PG = [
    """CREATE OR REPLACE FUNCTION missions_register_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the access register is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$""",
    f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
    "FOR EACH ROW EXECUTE FUNCTION missions_register_append_only()",
]
# On SQLite only UPDATE is refused: Django's flush (between transactional tests) empties tables
# with DELETE, which a DELETE trigger would stop; on PostgreSQL flush uses TRUNCATE.
_SQLITE = [
    f"CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE} "
    "BEGIN SELECT RAISE(ABORT, 'the access register is append-only: UPDATE refused'); END"
]
_PG_DROP = [f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}"]
_SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {TABLE}_no_update"]


def _run(schema_editor: Any, pg: list[str], sqlite: list[str]) -> None:
    vendor = schema_editor.connection.vendor
    statements = pg if vendor == "postgresql" else sqlite if vendor == "sqlite" else []
    for sql in statements:
        schema_editor.execute(sql, params=None)


def install(apps: Any, schema_editor: Any) -> None:
    """Install the triggers and load the default allowance rates."""
    _run(schema_editor, _PG, _SQLITE)
    from cimaise.missions.allowances import DEFAULT_RATES

    rate = apps.get_model("missions", "AllowanceRate")
    for kind, area, valid_from, amount in DEFAULT_RATES:
        rate.objects.get_or_create(kind=kind, area=area, valid_from=valid_from, defaults={"amount": amount})


def uninstall(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor, _PG_DROP, _SQLITE_DROP)
