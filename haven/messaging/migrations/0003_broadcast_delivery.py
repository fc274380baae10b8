import uuid

from django.db import migrations, models


def give_each_broadcast_a_uuid(apps, schema_editor):
    Broadcast = apps.get_model("messaging", "Broadcast")
    for broadcast in Broadcast.objects.filter(uuid__isnull=True):
        broadcast.uuid = uuid.uuid4()
        broadcast.save(update_fields=["uuid"])


class Migration(migrations.Migration):

    dependencies = [
        ("messaging", "0002_sensitive_category_and_opt_out"),
    ]

    operations = [
        migrations.AddField(
            model_name="broadcast",
            name="uuid",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(give_each_broadcast_a_uuid, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="broadcast",
            name="uuid",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
        migrations.AddField(
            model_name="broadcast",
            name="wrapped_key",
            field=models.BinaryField(default=b"", editable=False),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="broadcast",
            name="kek_id",
            field=models.CharField(db_index=True, default="", editable=False, max_length=32),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="broadcast",
            name="member_ids",
            field=models.JSONField(default=list),
        ),
        migrations.AddField(
            model_name="broadcast",
            name="subject_sealed",
            field=models.BinaryField(default=b"", editable=False),
        ),
        migrations.AddField(
            model_name="broadcast",
            name="body_sealed",
            field=models.BinaryField(default=b"", editable=False),
        ),
        migrations.AddField(
            model_name="broadcast",
            name="body_status",
            field=models.CharField(
                choices=[
                    ("pending_scan", "Waiting to be screened"),
                    ("clean", "Screened"),
                    ("unscanned", "Not screened (no scanner configured)"),
                    ("refused", "Removed by screening"),
                ],
                default="clean",
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="broadcast",
            name="delivered_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
