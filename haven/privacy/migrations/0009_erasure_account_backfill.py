"""Each erasure made before names the account it erased: the requester of its request."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def name_accounts(apps, schema_editor):
    Erasure = apps.get_model("privacy", "Erasure")
    RightsRequest = apps.get_model("privacy", "RightsRequest")
    requester = RightsRequest.objects.filter(pk=OuterRef("request_id")).values("requester_id")
    Erasure.objects.filter(account__isnull=True).update(account_id=Subquery(requester[:1]))


class Migration(migrations.Migration):
    dependencies = [("privacy", "0008_erasure_without_request")]

    operations = [migrations.RunPython(name_accounts, migrations.RunPython.noop)]
