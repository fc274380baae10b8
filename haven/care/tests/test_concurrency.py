import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import TransactionTestCase
from django.utils import timezone

from haven.accounts.models import User
from haven.care import services
from haven.care.models import Appointment, BookingMode, Practitioner, Service, Slot, VisitType
from haven.plans.models import EmployerGroup, Plan
from haven.testing.people import make_member, make_user, years_ago


@pytest.mark.postgres
class DoubleBookingTests(TransactionTestCase):
    BOOKERS = 8

    def setUp(self):
        plan = Plan.objects.create(code="P", name="P", carrier="C", year=2026)
        group = EmployerGroup.objects.create(group_number="G", name="G", plan=plan)
        self.members = [
            make_user(
                f"member{n}",
                User.Kind.MEMBER,
                member=make_member(f"M-{n}", group, "Member", f"Number{n}", years_ago(30 + n)),
            )
            for n in range(self.BOOKERS)
        ]
        administrator = make_user("admin", User.Kind.STAFF, staff_role="administrator")
        provider = make_user("doctor", User.Kind.PROVIDER)
        practitioner = services.practitioner_save(
            practitioner=Practitioner(
                first_name="Ji-woo",
                last_name="Kim",
                specialty="family_medicine",
                address_line="85 Jefferson Street",
                city="Hartford",
                postal_code="06103",
                latitude=41.76,
                longitude=-72.67,
            ),
            languages=["en"],
        )
        services.provider_account_link(
            user=provider, practitioner=practitioner, actor=administrator
        )
        service = Service.objects.create(
            practitioner=practitioner, visit_type=VisitType.NEW_PATIENT, booking=BookingMode.DIRECT
        )
        start = timezone.now() + timedelta(days=2)
        self.slot = Slot.objects.create(
            practitioner=practitioner,
            service=service,
            starts_at=start,
            ends_at=start + timedelta(minutes=30),
        )

    @pytest.mark.promise("CARE-2")
    def test_many_members_booking_the_same_time_at_once_get_one_appointment(self):
        start = threading.Barrier(self.BOOKERS)
        booked, refused, errors = [], [], []

        def attempt(user):
            try:
                start.wait()
                booking = services.booking_for(user, user.member)
                booked.append(
                    services.appointment_book(
                        slot=self.slot, booking=booking, shared=["contact"], actor=user
                    )
                )
            except services.BookingRefused:
                refused.append(user)
            except Exception as error:  # reported to the main thread below
                errors.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=attempt, args=(user,)) for user in self.members]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        self.assertEqual(errors, [])
        self.assertEqual(len(booked), 1)
        self.assertEqual(len(refused), self.BOOKERS - 1)
        self.assertEqual(Appointment.objects.filter(slot=self.slot).count(), 1)
