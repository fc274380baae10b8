from haven.accounts.models import UserSession
from haven.testing.access import (
    ALL_STAFF,
    CAREGIVER,
    CONSUMER,
    EVERYONE,
    MEMBERS,
    PENDING_PRODUCER,
    PRODUCER,
    PROVIDER,
    SIGNED_IN,
    STAFF,
    Rule,
)

MEMBER_SERVICES = {STAFF["customer_service"], STAFF["administrator"]}


def alices_account(case) -> dict:
    return {"pk": case.alice.pk}


def someone_elses_session(case) -> dict:
    """A session of the role the matrix visits last, so every other role meets it still alive."""
    owner = case.staff["producer_support"]
    user_session, _ = UserSession.objects.get_or_create(
        user=owner, session_key="matrix-producer-support-session"
    )
    return {"pk": user_session.pk}


RULES = [
    Rule("accounts:login", allow=EVERYONE, ok=(200, 302), note="signed-in users are sent home"),
    Rule("accounts:logout", method="POST", allow=EVERYONE, ok=(302,)),
    Rule("accounts:two_factor", allow=SIGNED_IN, ok=(200, 302)),
    Rule("accounts:confirm_password", allow=SIGNED_IN),
    Rule("accounts:session_status", allow=SIGNED_IN),
    Rule("accounts:session_keepalive", method="POST", allow=SIGNED_IN),
    Rule("accounts:set_language", method="POST", allow=EVERYONE, ok=(302,)),
    Rule("accounts:register", allow=EVERYONE, ok=(200, 302), note="signed-in users are sent home"),
    Rule("accounts:register_member", allow=EVERYONE, ok=(200, 302)),
    Rule("accounts:register_consumer", allow=EVERYONE, ok=(200, 302)),
    Rule("accounts:password_change", allow=SIGNED_IN),
    Rule("accounts:profile", allow=SIGNED_IN),
    Rule("accounts:profile_username", allow=SIGNED_IN),
    Rule("accounts:profile_names", allow=SIGNED_IN),
    Rule("accounts:profile_contact", allow=SIGNED_IN),
    Rule("accounts:profile_consumer", allow={CONSUMER}),
    Rule("accounts:sessions", allow=SIGNED_IN),
    Rule(
        "accounts:session_end",
        method="POST",
        kwargs=someone_elses_session,
        allow={STAFF["producer_support"]},
        ok=(302,),
        note="only the owner ends a session; anyone else's session id is not found",
    ),
    Rule("accounts:sessions_end_others", method="POST", allow=SIGNED_IN, ok=(302,)),
    Rule(
        "accounts:second_factor",
        allow=ALL_STAFF,
        note="staff replace their own authenticator after giving the password again",
    ),
    Rule(
        "accounts:second_factor_reset",
        allow={STAFF["compliance"], STAFF["administrator"]},
        note="compliance and the administrator reset a colleague's lost second factor",
    ),
    Rule(
        "accounts:account_close",
        allow=MEMBERS | {CAREGIVER, CONSUMER, PRODUCER, PENDING_PRODUCER, PROVIDER},
        note="the owner reads what closing does; staff and employer accounts end elsewhere",
    ),
    Rule("accounts:staff_account_find", allow=MEMBER_SERVICES),
    Rule(
        "accounts:staff_account",
        kwargs=alices_account,
        allow=MEMBER_SERVICES,
        note="member services close an account at its owner's request, with a reason",
    ),
]
