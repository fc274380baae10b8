"""Failed sign-ins (Django's own signal) and the virus scanner's finds feed the detectors."""

from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver

from haven.messaging.clamd import infected_content_found
from haven.security import services


@receiver(user_login_failed)
def failed_sign_in(sender, credentials, request=None, **kwargs):
    if request is not None:
        services.note_failed_sign_in(
            services.client_address(request), str(credentials.get("username", ""))
        )


@receiver(infected_content_found)
def malicious_upload(sender, **kwargs):
    """A background rescan has no request: the event is still raised, with no address."""
    services.note_malicious_upload(services.current_address.get())
