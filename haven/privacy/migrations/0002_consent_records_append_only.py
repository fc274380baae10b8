"""On PostgreSQL, the database itself refuses UPDATE and DELETE of consent records (CON-8)."""

from django.db import migrations

CREATE_FUNCTION = """
CREATE OR REPLACE FUNCTION haven_consent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'consent records are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CREATE_FUNCTION, params=None)
    schema_editor.execute(
        "CREATE TRIGGER privacy_consentrecord_append_only BEFORE UPDATE OR DELETE "
        "ON privacy_consentrecord FOR EACH ROW EXECUTE FUNCTION haven_consent_append_only()"
    )


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "DROP TRIGGER IF EXISTS privacy_consentrecord_append_only ON privacy_consentrecord"
    )
    schema_editor.execute("DROP FUNCTION IF EXISTS haven_consent_append_only()")


class Migration(migrations.Migration):
    dependencies = [("privacy", "0001_initial")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
