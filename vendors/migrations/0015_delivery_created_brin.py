"""A BRIN index on deliveries' ``created_at`` for the sweep of behaviour figures
(``vendors.selectors.vendors_with_deliveries``), which reads the deliveries made in a window of
minutes. Deliveries are written in the order of that column, so a block-range index finds the
window in a few pages and costs a fan-out almost nothing, where a B-tree would add a write per
row. PostgreSQL only: SQLite (the demo) has no such index and scans its small table."""

from django.db import migrations

INDEX = "delivery_created_brin"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        table = apps.get_model("vendors", "Delivery")._meta.db_table
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON {table} USING brin (created_at)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("vendors", "0014_pseudonym_handle_one_index")]

    operations = [migrations.RunPython(create, drop)]
