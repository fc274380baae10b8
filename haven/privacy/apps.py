from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "haven.privacy"
    label = "privacy"
    verbose_name = _("Privacy center")

    def ready(self):
        from haven.lib.crypto import register_sealed_model
        from haven.privacy.models import Archive

        # `haven keys rotate` re-wraps the data keys of access archives too.
        register_sealed_model(Archive)
