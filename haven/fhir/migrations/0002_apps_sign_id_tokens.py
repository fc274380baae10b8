from django.db import migrations
from oauth2_provider.settings import oauth2_settings


def sign_with_rsa(apps, schema_editor):
    """Registered apps receive id_tokens signed with the server's RSA key (OpenID Connect)."""
    RegisteredApp = apps.get_model("fhir", "RegisteredApp")
    Application = apps.get_model(*oauth2_settings.APPLICATION_MODEL.split("."))
    ids = RegisteredApp.objects.values_list("application_id", flat=True)
    Application.objects.filter(pk__in=ids).update(algorithm="RS256")


class Migration(migrations.Migration):
    dependencies = [
        ("fhir", "0001_initial"),
        # The migration that gives applications their signing algorithm.
        ("oauth2_provider", "0004_auto_20200902_2022"),
    ]

    operations = [migrations.RunPython(sign_with_rsa, migrations.RunPython.noop)]
