# Portal conversations and messages become sealed (haven.lib.crypto). Rows written in clear by
# 0001 (the portal's first hours, before encryption existed) are deleted rather than kept in clear.

import uuid

from django.db import migrations, models


def delete_clear_text_rows(apps, schema_editor):
    apps.get_model("mail", "PortalMessage").objects.all().delete()
    apps.get_model("mail", "PortalConversation").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("mail", "0001_initial")]

    operations = [
        migrations.RunPython(delete_clear_text_rows, migrations.RunPython.noop),
        migrations.RemoveField(model_name="portalconversation", name="subject"),
        migrations.RemoveField(model_name="portalmessage", name="body"),
        migrations.AddField(
            model_name="portalconversation",
            name="uuid",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
        migrations.AddField(
            model_name="portalconversation",
            name="wrapped_key",
            field=models.BinaryField(default=b"", editable=False),
        ),
        migrations.AddField(
            model_name="portalconversation",
            name="kek_id",
            field=models.CharField(db_index=True, default="", editable=False, max_length=32),
        ),
        migrations.AddField(
            model_name="portalconversation",
            name="subject_sealed",
            field=models.BinaryField(default=b"", editable=False),
        ),
        migrations.AddField(
            model_name="portalmessage",
            name="uuid",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
        migrations.AddField(
            model_name="portalmessage",
            name="wrapped_key",
            field=models.BinaryField(default=b"", editable=False),
        ),
        migrations.AddField(
            model_name="portalmessage",
            name="kek_id",
            field=models.CharField(db_index=True, default="", editable=False, max_length=32),
        ),
        migrations.AddField(
            model_name="portalmessage",
            name="body_sealed",
            field=models.BinaryField(default=b"", editable=False),
        ),
    ]
