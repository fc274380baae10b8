"""On PostgreSQL, the audit trail becomes a table range-partitioned by month (docs/scaling.md).

PostgreSQL puts the partition key in every unique key, so in the database the primary key becomes
(id, recorded_at) and the unique keys (sequence, recorded_at) and (hash, recorded_at); Django keeps
`id` as the primary key. Ids stay unique through the identity sequence, and sequence numbers
because every writer takes the next one from the locked chain head; `haven audit verify` finds a
repeated or missing one. The append-only trigger of 0002 is made again on the partitioned table,
where it guards every partition, present and future. Rows, ids and hashes are kept.

Two tables point at events with a foreign key: reviews (`audit_auditreview.event_id`) and
disclosures (`privacy_disclosure.audit_event_id`). PostgreSQL cannot keep a foreign key towards a
partitioned table whose `id` alone is not unique, so each becomes a constraint trigger: a row naming
an event that does not exist is refused at commit, as the deferred key did. Events are never
deleted (the append-only trigger), so nothing can lose its event later. Django's models keep their
relations; a later migration that alters one of these two fields must keep the trigger, not
recreate the key.

The table is rewritten under an exclusive lock: a large trail needs a maintenance window.
SQLite: nothing changes.
"""

from django.db import migrations

from haven.lib.partitions import partition_by_month, referencing_foreign_keys, unpartition

TABLE, COLUMN = "audit_auditevent", "recorded_at"

EVENT_EXISTS = """
CREATE OR REPLACE FUNCTION haven_audit_event_exists() RETURNS trigger AS $$
DECLARE
    event_id bigint := (to_jsonb(NEW) ->> TG_ARGV[0])::bigint;
BEGIN
    IF event_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM audit_auditevent WHERE id = event_id)
    THEN
        RAISE EXCEPTION '%.% names audit event %, which does not exist',
            TG_TABLE_NAME, TG_ARGV[0], event_id USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""
# (app, model, field) of the relations whose foreign keys become triggers.
REFERENCES = [("audit", "AuditReview", "event"), ("privacy", "Disclosure", "audit_event")]


def _trigger_name(table: str, column: str) -> str:
    return f"{table}_{column}_exists"


def partition(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(EVENT_EXISTS)
        for app, model_name, field_name in REFERENCES:
            model = apps.get_model(app, model_name)
            table = model._meta.db_table
            column = model._meta.get_field(field_name).column
            cursor.execute(
                f"CREATE CONSTRAINT TRIGGER {q(_trigger_name(table, column))} "
                f"AFTER INSERT OR UPDATE OF {q(column)} ON {q(table)} "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                f"EXECUTE FUNCTION haven_audit_event_exists('{column}')"
            )
        known = {apps.get_model(app, model)._meta.db_table for app, model, _f in REFERENCES}
        for table, constraint in referencing_foreign_keys(cursor, TABLE):
            if table not in known:
                raise RuntimeError(f"{table}.{constraint} points at {TABLE}: decide what it needs")
            cursor.execute(f"ALTER TABLE {q(table)} DROP CONSTRAINT {q(constraint)}")
    partition_by_month(connection, TABLE, COLUMN)


def unpartition_again(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    unpartition(connection, TABLE, COLUMN)
    q = connection.ops.quote_name
    for app, model_name, field_name in REFERENCES:
        model = apps.get_model(app, model_name)
        field = model._meta.get_field(field_name)
        table = model._meta.db_table
        schema_editor.execute(
            f"DROP TRIGGER IF EXISTS {q(_trigger_name(table, field.column))} ON {q(table)}"
        )
        schema_editor.execute(
            schema_editor._create_fk_sql(model, field, "_fk_%(to_table)s_%(to_column)s")
        )
    schema_editor.execute("DROP FUNCTION IF EXISTS haven_audit_event_exists()")


class Migration(migrations.Migration):
    # After the migration that made the disclosures' foreign key, which this one replaces.
    dependencies = [("audit", "0003_alter_auditevent_purpose"), ("privacy", "0001_initial")]

    operations = [migrations.RunPython(partition, unpartition_again)]
