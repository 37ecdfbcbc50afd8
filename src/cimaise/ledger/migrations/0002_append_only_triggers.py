"""Refuse UPDATE, DELETE (and TRUNCATE on PostgreSQL) of facts and anchors in the database."""

from typing import Any

from django.db import migrations

from cimaise.ledger.triggers import drop_statements, install_statements


def install(apps: Any, schema_editor: Any) -> None:
    for sql in install_statements(schema_editor.connection.vendor):
        schema_editor.execute(sql, params=None)


def drop(apps: Any, schema_editor: Any) -> None:
    for sql in drop_statements(schema_editor.connection.vendor):
        schema_editor.execute(sql, params=None)


def create_head(apps: Any, schema_editor: Any) -> None:
    apps.get_model("ledger", "ChainHead").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [
        migrations.RunPython(install, drop),
        migrations.RunPython(create_head, migrations.RunPython.noop),
    ]
