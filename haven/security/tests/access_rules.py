from haven.testing.access import STAFF, Rule

SECURITY_STAFF = {STAFF["administrator"], STAFF["compliance"]}


def waiting_event(case):
    from django.utils import timezone

    from haven.security.models import SecurityEvent

    now = timezone.now()
    event = SecurityEvent.objects.create(
        kind=SecurityEvent.Kind.SCANNING, address="192.0.2.5", first_seen=now, last_seen=now
    )
    return {"pk": event.pk}


RULES = [
    Rule("security:dashboard", allow=SECURITY_STAFF),
    Rule("security:web_log", allow=SECURITY_STAFF),
    Rule(
        "security:review",
        method="POST",
        allow=SECURITY_STAFF,
        kwargs=waiting_event,
        data={"note": "Looked at it."},
        ok=(302,),
    ),
]
