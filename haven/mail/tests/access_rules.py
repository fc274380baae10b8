"""Who may open each e-mail and portal URL.

The portal pages (conversation) are guarded by the portal's own session, which no Haven account
has: every role is sent to the portal's sign-in (302). test_portal.py proves that a portal
recipient opens only their own conversations.
"""

from haven.mail import links
from haven.mail.models import (
    Category,
    OutgoingEmail,
    PortalConversation,
    PortalRecipient,
    address_hash,
)
from haven.testing.access import ALL_STAFF, EVERYONE, SIGNED_IN, STAFF, Rule

OPT_OUT_STAFF = {STAFF["customer_service"], STAFF["administrator"]}


def _conversation(case) -> PortalConversation:
    recipient, _created = PortalRecipient.objects.get_or_create(
        address_hash=address_hash("contact@employer.test"),
        defaults={"address": "contact@employer.test"},
    )
    return PortalConversation.objects.create(
        recipient=recipient, haven_sender=case.nurse, subject="Plan renewal"
    )


def _open_token(case) -> dict:
    conversation = _conversation(case)
    token = links.portal_open_token(
        recipient_id=conversation.recipient_id, conversation_id=conversation.pk
    )
    return {"token": token}


def _reset_token(case) -> dict:
    conversation = _conversation(case)
    recipient = conversation.recipient
    token = links.portal_reset_token(
        recipient_id=recipient.pk, credential_version=recipient.credential_version
    )
    return {"token": token}


def _failed_email(case) -> dict:
    email = OutgoingEmail.objects.create(
        idempotency_key="access-rule-failed",
        to_address="alice@example.org",
        category=Category.NOTIFICATION,
        reason="test",
        subject="test",
        text_body="test",
        status=OutgoingEmail.Status.FAILED,
    )
    return {"pk": email.pk}


RULES = [
    Rule("mail:genuine", allow=EVERYONE),
    Rule("mail:preferences", allow=SIGNED_IN),
    Rule(
        "mail:unsubscribe",
        allow=EVERYONE,
        kwargs={
            "token": links.unsubscribe_token(
                address_hash="0" * 64, category=Category.NEWSLETTER.value
            )
        },
        note="the signed token is the permission; no sign-in needed (RFC 8058)",
    ),
    Rule("mail:tracking_pixel", allow=EVERYONE, kwargs={"token": "opaque"}),
    Rule("mail:portal_home", allow=EVERYONE),
    Rule("mail:portal_open", allow=EVERYONE, kwargs=_open_token),
    Rule(
        "mail:portal_conversation",
        allow=EVERYONE,
        ok=(302,),
        kwargs=lambda case: {"pk": _conversation(case).pk},
        note="no Haven account has a portal session: everyone is sent to the portal sign-in",
    ),
    Rule("mail:portal_signout", method="POST", allow=EVERYONE, ok=(302,)),
    Rule("mail:portal_reset_request", allow=EVERYONE),
    Rule("mail:portal_reset", allow=EVERYONE, kwargs=_reset_token),
    Rule("mail:secure_list", allow=ALL_STAFF),
    Rule("mail:secure_compose", allow=ALL_STAFF),
    Rule(
        "mail:secure_conversation",
        allow={STAFF["care_team"]},
        kwargs=lambda case: {"pk": _conversation(case).pk},
        note="only the Haven sender of the conversation",
    ),
    Rule("mail:support_opt_out", allow=OPT_OUT_STAFF),
    Rule("mail:outbox", allow=OPT_OUT_STAFF),
    Rule("mail:outbox_retry", method="POST", allow=OPT_OUT_STAFF, ok=(302,), kwargs=_failed_email),
]
