from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    name = "haven.messaging"
    label = "messaging"
    verbose_name = _("Secure messages")

    def ready(self) -> None:
        from haven.lib.crypto import register_sealed_model
        from haven.messaging.models import Attachment, Broadcast, Conversation, Message

        register_sealed_model(Conversation)
        register_sealed_model(Message, related=["conversation"])
        register_sealed_model(Attachment, related=["message"])
        register_sealed_model(Broadcast)
