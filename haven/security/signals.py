"""Failed sign-ins, from Django's own signal, feed the credential-stuffing detector."""

from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver

from haven.security import services


@receiver(user_login_failed)
def failed_sign_in(sender, credentials, request=None, **kwargs):
    if request is not None:
        services.note_failed_sign_in(
            services.client_address(request), str(credentials.get("username", ""))
        )
