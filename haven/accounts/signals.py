from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from haven.accounts.models import UserSession
from haven.accounts.sessions import session_started


@receiver(user_logged_in)
def remember_session(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        session_started(request, user)


@receiver(user_logged_out)
def forget_session(sender, request, user, **kwargs) -> None:
    if request is not None and request.session.session_key:
        UserSession.objects.filter(session_key=request.session.session_key).delete()
