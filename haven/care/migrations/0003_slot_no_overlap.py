"""A practice's published times never overlap, whatever the visit (CARE-2).

PostgreSQL: an exclusion constraint over (practitioner, [starts_at, ends_at)) for times not
withdrawn, with btree_gist for the equality on the practitioner; it holds under concurrent writes.
SQLite, which writes one transaction at a time: triggers refusing an overlapping insert or update.
"""

from django.db import migrations

POSTGRES = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    "ALTER TABLE care_slot ADD CONSTRAINT care_slot_no_overlap EXCLUDE USING gist "
    "(practitioner_id WITH =, tstzrange(starts_at, ends_at) WITH &&) WHERE (withdrawn_at IS NULL)",
]
POSTGRES_REVERSE = ["ALTER TABLE care_slot DROP CONSTRAINT IF EXISTS care_slot_no_overlap"]

_SQLITE_OVERLAP = (
    "NEW.withdrawn_at IS NULL AND EXISTS (SELECT 1 FROM care_slot other "
    "WHERE other.practitioner_id = NEW.practitioner_id AND other.withdrawn_at IS NULL "
    "AND other.id IS NOT NEW.id "
    "AND other.starts_at < NEW.ends_at AND NEW.starts_at < other.ends_at)"
)
SQLITE = [
    f"CREATE TRIGGER care_slot_no_overlap_insert BEFORE INSERT ON care_slot "
    f"WHEN {_SQLITE_OVERLAP} BEGIN SELECT RAISE(ABORT, 'care_slot_no_overlap'); END",
    f"CREATE TRIGGER care_slot_no_overlap_update BEFORE UPDATE ON care_slot "
    f"WHEN {_SQLITE_OVERLAP} BEGIN SELECT RAISE(ABORT, 'care_slot_no_overlap'); END",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS care_slot_no_overlap_insert",
    "DROP TRIGGER IF EXISTS care_slot_no_overlap_update",
]


def _run(statements: dict[str, list[str]]):
    def run(apps, schema_editor):
        for statement in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("care", "0002_name_index_sort_order")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRES_REVERSE, "sqlite": SQLITE_REVERSE}),
        )
    ]
