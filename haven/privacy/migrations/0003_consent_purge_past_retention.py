"""On PostgreSQL the append-only trigger on consent records lets one thing through: the
retention purge (haven.privacy.retention) deleting a record that a later choice of the same
person replaced before the cutoff the purge names for its transaction. Updates stay refused,
and so does any other delete (NOT-6, CON-8)."""

from django.db import migrations

ALLOW_PURGE = """
CREATE OR REPLACE FUNCTION haven_consent_append_only() RETURNS trigger AS $$
DECLARE
    cutoff text := current_setting('haven.consent_purge_before', true);
BEGIN
    IF TG_OP = 'DELETE' AND coalesce(cutoff, '') <> '' AND EXISTS (
        SELECT 1 FROM privacy_consentrecord later
        WHERE later.subject = OLD.subject
          AND later.scope = OLD.scope
          AND later.user_id IS NOT DISTINCT FROM OLD.user_id
          AND (OLD.user_id IS NOT NULL OR later.visitor = OLD.visitor)
          AND later.id > OLD.id
          AND later.recorded_at >= OLD.recorded_at
          AND later.recorded_at < cutoff::timestamptz
    ) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'consent records are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

REFUSE_ALL = """
CREATE OR REPLACE FUNCTION haven_consent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'consent records are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def allow_purge(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ALLOW_PURGE, params=None)


def refuse_all(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REFUSE_ALL, params=None)


class Migration(migrations.Migration):
    dependencies = [("privacy", "0002_consent_records_append_only")]

    operations = [migrations.RunPython(allow_purge, refuse_all)]
