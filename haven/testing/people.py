"""Named people for tests: a family, a caregiver, an outsider, producers, providers and staff.

`HavenTestCase` builds them once per class (setUpTestData); `sign_in` also passes a staff
member's second factor, as the real sign-in would.
"""

from datetime import date, timedelta

from django.test import TestCase
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from haven.accounts.models import User
from haven.caregivers.models import Grant, Scope
from haven.plans.models import EmployerGroup, Member, Plan
from haven.producers.models import Producer

PASSWORD = "correct horse battery staple"


def years_ago(years: int, days: int = 0) -> date:
    today = timezone.localdate()
    try:
        born = today.replace(year=today.year - years)
    except ValueError:
        born = today.replace(year=today.year - years, day=28)
    return born - timedelta(days=days)


def make_member(
    member_id: str,
    group: EmployerGroup,
    first: str,
    last: str,
    born: date,
    *,
    subscriber: Member | None = None,
    relationship: str = "self",
    gender: str = "F",
) -> Member:
    return Member.objects.create(
        member_id=member_id,
        group=group,
        subscriber=subscriber,
        relationship=relationship,
        first_name=first,
        last_name=last,
        gender=gender,
        date_of_birth=born,
        postal_code="06103",
        city="Hartford",
        region="CT",
        coverage_start=date(2020, 1, 1),
    )


def make_user(
    username: str, kind: str, *, member: Member | None = None, staff_role: str = "", **fields
) -> User:
    user = User(username=username, kind=kind, member=member, staff_role=staff_role, **fields)
    user.set_password(PASSWORD)
    user.save()
    if kind == User.Kind.STAFF:
        TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    return user


class HavenTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.plan = Plan.objects.create(
            code="TEST-PPO", name="Test PPO", carrier="Haven Health Plan", year=2026
        )
        cls.group = EmployerGroup.objects.create(
            group_number="G-1", name="Riverside", plan=cls.plan
        )
        cls.other_group = EmployerGroup.objects.create(
            group_number="G-2", name="Harbor", plan=cls.plan
        )

        # The Rivera family: Alice subscribes, Bruno is her spouse, Teo is 15 and Carla is 11.
        cls.alice_member = make_member("M-ALICE", cls.group, "Alice", "Rivera", years_ago(40))
        cls.bruno_member = make_member(
            "M-BRUNO",
            cls.group,
            "Bruno",
            "Rivera",
            years_ago(42),
            subscriber=cls.alice_member,
            relationship="spouse",
            gender="M",
        )
        cls.teo_member = make_member(
            "M-TEO",
            cls.group,
            "Teo",
            "Rivera",
            years_ago(15),
            subscriber=cls.alice_member,
            relationship="child",
            gender="M",
        )
        cls.carla_member = make_member(
            "M-CARLA",
            cls.group,
            "Carla",
            "Rivera",
            years_ago(11),
            subscriber=cls.alice_member,
            relationship="child",
        )
        cls.elena_member = make_member("M-ELENA", cls.group, "Elena", "Moretti", years_ago(68))
        cls.oscar_member = make_member(
            "M-OSCAR", cls.other_group, "Oscar", "Nilsen", years_ago(35), gender="M"
        )

        cls.alice = make_user(
            "alice",
            User.Kind.MEMBER,
            member=cls.alice_member,
            first_name="Alice",
            last_name="Rivera",
            email="alice@example.org",
        )
        cls.bruno = make_user(
            "bruno", User.Kind.MEMBER, member=cls.bruno_member, first_name="Bruno"
        )
        cls.elena = make_user(
            "elena", User.Kind.MEMBER, member=cls.elena_member, first_name="Elena"
        )
        cls.oscar = make_user(
            "oscar", User.Kind.MEMBER, member=cls.oscar_member, first_name="Oscar"
        )
        cls.maria = make_user("maria", User.Kind.CAREGIVER, first_name="Maria", last_name="Lopez")
        cls.consumer = make_user("consuelo", User.Kind.CONSUMER, first_name="Consuelo")
        cls.provider = make_user("drkim", User.Kind.PROVIDER, first_name="Ji-woo", last_name="Kim")
        cls.employer = make_user("hr", User.Kind.EMPLOYER, first_name="Rita")

        now = timezone.now()
        # Maria cares for Elena: messages and appointments, not claims.
        cls.maria_grant = Grant.objects.create(
            member=cls.elena_member,
            grantee=cls.maria,
            kind=Grant.Kind.CAREGIVER,
            scopes=[Scope.MESSAGES, Scope.APPOINTMENTS],
            expires_at=Grant.default_caregiver_expiry(now),
            accepted_at=now,
            created_by=cls.elena,
        )
        # Alice is Teo's guardian until he turns 18.
        cls.teo_guardian_grant = Grant.objects.create(
            member=cls.teo_member,
            grantee=cls.alice,
            kind=Grant.Kind.GUARDIAN,
            scopes=[scope.value for scope in Scope],
            expires_at=timezone.make_aware(
                timezone.datetime.combine(
                    cls.teo_member.birthday_of_age(18), timezone.datetime.min.time()
                )
            ),
            accepted_at=now,
            created_by=cls.alice,
        )

        cls.staff = {}
        for role in User.StaffRole:
            cls.staff[role.value] = make_user(
                f"staff-{role.value}", User.Kind.STAFF, staff_role=role.value, first_name=role.label
            )
        cls.nurse = cls.staff["care_team"]
        cls.representative = cls.staff["customer_service"]
        cls.privacy_officer = cls.staff["privacy_officer"]
        cls.administrator = cls.staff["administrator"]

        cls.producer = make_user("pete", User.Kind.PRODUCER, first_name="Pete")
        Producer.objects.create(
            user=cls.producer,
            kind=Producer.Kind.INDIVIDUAL,
            legal_name="Pete Broker",
            tax_id_hash="a" * 64,
            tax_id_last4="1234",
            licence_number="LIC-1",
            licence_region="CT",
            address_line="1 Main St",
            city="Hartford",
            postal_code="06103",
            status=Producer.Status.APPROVED,
            reviewed_by=cls.staff["producer_support"],
            reviewed_at=now,
        )
        cls.pending_producer = make_user("penny", User.Kind.PRODUCER, first_name="Penny")
        Producer.objects.create(
            user=cls.pending_producer,
            kind=Producer.Kind.AGENCY,
            legal_name="Penny Agency LLC",
            agency_name="Penny Agency",
            tax_id_hash="b" * 64,
            tax_id_last4="5678",
            licence_number="LIC-2",
            licence_region="CT",
            address_line="2 Main St",
            city="Hartford",
            postal_code="06103",
        )

    def sign_in(self, user: User, client=None):
        """Sign in as the user; staff also pass their second factor."""
        client = client or self.client
        client.force_login(user)
        if user.kind == User.Kind.STAFF:
            session = client.session
            session["otp_device_id"] = TOTPDevice.objects.get(user=user).persistent_id
            session.save()
        return client
