"""The audit log cannot be changed or deleted in the database either (PostgreSQL): a trigger
refuses any UPDATE except the one the database itself makes when an actor's account is erased
(``actor_id`` set to NULL by ``on_delete=SET_NULL``), and any DELETE. The model refuses both too
(``broker.models.AuditLog``)."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION broker_auditlog_immutable() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit entries cannot be deleted';
    END IF;
    IF NEW.actor_id IS NULL AND OLD.actor_id IS NOT NULL
       AND NEW.action = OLD.action AND NEW.target_type = OLD.target_type
       AND NEW.target_id = OLD.target_id AND NEW.detail = OLD.detail
       AND NEW.created_at = OLD.created_at AND NEW.id = OLD.id THEN
        RETURN NEW;  -- the actor's account was erased
    END IF;
    RAISE EXCEPTION 'audit entries cannot be changed';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS broker_auditlog_immutable ON broker_auditlog;
CREATE TRIGGER broker_auditlog_immutable BEFORE UPDATE OR DELETE ON broker_auditlog
    FOR EACH ROW EXECUTE FUNCTION broker_auditlog_immutable();
"""
DROP = """
DROP TRIGGER IF EXISTS broker_auditlog_immutable ON broker_auditlog;
DROP FUNCTION IF EXISTS broker_auditlog_immutable();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("broker", "0002_idempotency")]

    operations = [migrations.RunPython(forwards, backwards)]
