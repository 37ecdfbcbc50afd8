"""Database triggers that refuse UPDATE, DELETE and TRUNCATE on the ledger's tables.

The ORM refuses them too; the triggers stop raw SQL and other programs. Someone with enough
database rights can still drop them, which is why ``ledger verify`` does not trust them.
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

PROTECTED_TABLES = ("ledger_fact", "ledger_anchor")

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def _pg_create(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION ledger_append_only()",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only()",
    ]


def _sqlite_create(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'ledger is append-only: {op} on {table} refused'); END"
        for op in ("UPDATE", "DELETE")
    ]


def install_statements(vendor: str) -> list[str]:
    """SQL creating the triggers on this database vendor."""
    if vendor == "postgresql":
        return [_PG_FUNCTION] + [sql for t in PROTECTED_TABLES for sql in _pg_create(t)]
    if vendor == "sqlite":
        return [sql for t in PROTECTED_TABLES for sql in _sqlite_create(t)]
    raise RuntimeError(f"no append-only triggers for database vendor {vendor!r}")


def drop_statements(vendor: str) -> list[str]:
    """SQL dropping the triggers (maintenance and tests only)."""
    if vendor == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS {t}_{suffix} ON {t}"
            for t in PROTECTED_TABLES
            for suffix in ("append_only", "no_truncate")
        ]
    return [f"DROP TRIGGER IF EXISTS {t}_no_{op}" for t in PROTECTED_TABLES for op in ("update", "delete")]


def triggers_install(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        for sql in install_statements(connection.vendor):
            cursor.execute(sql)


def triggers_drop(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        for sql in drop_statements(connection.vendor):
            cursor.execute(sql)
