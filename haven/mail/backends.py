"""A Django e-mail backend for mail that does not come through the outbox (admin error reports).

Haven's own e-mail goes through `services.template_email_enqueue`; anything sent with Django's
`send_mail` should still leave only over verified TLS (MAIL-1) and from Haven's domain (MAIL-6):
set EMAIL_BACKEND = "haven.mail.backends.TLSOnlyEmailBackend".
"""

from django.core.mail.backends.base import BaseEmailBackend

from haven.mail import transport
from haven.mail.services import sender_address


class TLSOnlyEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        sent = 0
        for email_message in email_messages:
            recipients = email_message.recipients()
            if not recipients:
                continue
            message = email_message.message()
            del message["From"]
            message["From"] = sender_address()
            try:
                for recipient in recipients:
                    transport.send_through_relay(
                        message, envelope_from=sender_address(), recipient=recipient
                    )
            except (transport.DeliveryError, OSError):
                if not self.fail_silently:
                    raise
                continue
            sent += 1
        return sent
