"""Demo sign-ins for `haven demo`: members, a consumer, and staff of every role."""

from django.conf import settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from haven.accounts.models import User
from haven.plans.models import Member

DEMO_PASSWORD = "haven-demo-2026"  # noqa: S105 - printed for the demo; refused in production  # nosec B105
# A fixed TOTP key for demo staff, so `haven demo_code USER` can print the current code.
DEMO_TOTP_KEY = "3132333435363738393031323334353637383930"

MEMBERS = [
    ("alice", "HVN1000001", "alice@example.org"),
    ("elena", "HVN1000005", ""),
    ("farid", "HVN1000006", ""),
]
STAFF = [
    ("nina", "care_team", "Nina", "Cole"),
    ("sam", "customer_service", "Sam", "Ortiz"),
    ("claire", "claims", "Claire", "Dubois"),
    ("pablo", "producer_support", "Pablo", "Reyes"),
    ("connor", "compliance", "Connor", "Walsh"),
    ("priya", "privacy_officer", "Priya", "Shah"),
    ("ada", "administrator", "Ada", "Brooks"),
]


def _user(username: str, **fields) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, **fields)
        user.set_password(DEMO_PASSWORD)
        user.full_clean(exclude=["password"])
        user.save()
    return user


def load() -> None:
    if settings.PRODUCTION:
        raise RuntimeError("demo accounts are never created in production")
    for username, member_id, email in MEMBERS:
        member = Member.objects.get(member_id=member_id)
        _user(
            username,
            kind=User.Kind.MEMBER,
            member=member,
            first_name=member.first_name,
            last_name=member.last_name,
            email=email,
        )
    _user(
        "bruno",
        kind=User.Kind.MEMBER,
        member=Member.objects.get(member_id="HVN1000002"),
        first_name="Bruno",
        last_name="Rivera",
    )
    _user(
        "maria",
        kind=User.Kind.CAREGIVER,
        first_name="Maria",
        last_name="Lopez",
        email="maria@example.org",
    )
    _user(
        "consuelo",
        kind=User.Kind.CONSUMER,
        first_name="Consuelo",
        last_name="Vega",
        email="consuelo@example.org",
    )
    _user("drkim", kind=User.Kind.PROVIDER, first_name="Ji-woo", last_name="Kim")
    _user("hr-riverside", kind=User.Kind.EMPLOYER, first_name="Rita", last_name="Hale")
    for username, role, first, last in STAFF:
        staff = _user(
            username,
            kind=User.Kind.STAFF,
            staff_role=role,
            first_name=first,
            last_name=last,
            email=f"{username}@haven.example",
        )
        TOTPDevice.objects.get_or_create(
            user=staff, name="demo", defaults={"key": DEMO_TOTP_KEY, "confirmed": True}
        )


def sign_ins() -> list[tuple[str, str]]:
    rows = [
        ("alice", "member, guardian of her children Carla and Diego (minors)"),
        ("elena", "member (Maria acts for her)"),
        ("farid", "member"),
        ("bruno", "member (Alice's spouse)"),
        ("maria", "caregiver for Elena (profile, messages, appointments, plan; not claims)"),
        ("consuelo", "consumer"),
        ("drkim", "provider"),
        ("hr-riverside", "employer contact"),
    ]
    rows += [
        (username, f"staff: {role} (second factor: haven demo_code {username})")
        for username, role, _, _ in STAFF
    ]
    return rows
