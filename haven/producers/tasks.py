"""Background work for producers: telling them a decision was made, without saying it by e-mail."""

from django.urls import reverse
from django_tasks import task

from haven.mail.models import Category
from haven.mail.services import template_email_enqueue
from haven.producers.models import Producer


@task()
def notify_producer_of_review(producer_pk: int) -> int | None:
    """Queue the fixed "your registration has been reviewed" e-mail in the mail outbox.

    The body names no one and does not give the decision: the producer signs in to see it. It is
    about their registration, so it needs no permission (MAIL-7); it leaves over TLS with the
    outbox's retries. Returns the outbox row's id, or None without an address.
    """
    producer = Producer.objects.select_related("user").get(pk=producer_pk)
    user = producer.user
    if not user.email:
        return None
    reviewed = producer.reviewed_at.isoformat() if producer.reviewed_at else "unreviewed"
    email = template_email_enqueue(
        template="producer_reviewed",
        category=Category.REGISTRATION,
        to_address=user.email,
        user=user,
        link_path=reverse("producers:status"),
        reason="producer registration reviewed",
        # A retried task finds the e-mail it already wrote for this review.
        idempotency_key=f"producer-reviewed:{producer.pk}:{reviewed}",
    )
    return email.pk
