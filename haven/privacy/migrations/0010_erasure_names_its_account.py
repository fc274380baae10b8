import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0009_erasure_account_backfill"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="erasure",
            name="account",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="erasures",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddConstraint(
            model_name="erasure",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("cause", "request"),
                        ("erased_by__isnull", False),
                        ("request__isnull", False),
                    ),
                    models.Q(("cause", "closed_account"), ("request__isnull", True)),
                    _connector="OR",
                ),
                name="erasure_cause_matches_request",
            ),
        ),
        migrations.AddConstraint(
            model_name="erasure",
            constraint=models.UniqueConstraint(
                fields=("account",), name="erasure_once_per_account"
            ),
        ),
    ]
