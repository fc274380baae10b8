"""Background work for producers: telling them a decision was made, without saying it by e-mail."""

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django_tasks import task

from haven.producers.models import Producer


@task()
def notify_producer_of_review(producer_pk: int) -> None:
    """E-mail the producer to sign in; the body names no one and does not give the decision."""
    producer = Producer.objects.select_related("user").get(pk=producer_pk)
    user = producer.user
    if not user.email:
        return
    with translation.override(user.language or settings.LANGUAGE_CODE):
        link = settings.SITE_URL.rstrip("/") + reverse("producers:status")
        subject = _("Your producer registration has been reviewed")
        body = _(
            "Our producer support team has reviewed your registration with %(site)s.\n\n"
            "Sign in to see the decision: %(link)s\n\n"
            "If you did not register as a producer, contact producer support."
        ) % {"site": settings.SITE_NAME, "link": link}
    send_mail(subject, body, None, [user.email])
