from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailConfig(AppConfig):
    name = "haven.mail"
    label = "mail"
    verbose_name = _("E-mail and the secure e-mail portal")

    def ready(self):
        from haven.lib.crypto import register_sealed_model
        from haven.mail.models import PortalConversation, PortalMessage

        # `haven keys rotate` re-wraps the data keys of portal conversations and messages.
        register_sealed_model(PortalConversation)
        register_sealed_model(PortalMessage)
