"""The practice's own pages: its kinds of visit and how members book each (service_add,
service_update), publishing free times (availability_publish), and times that never overlap
(CARE-2)."""

import threading
from datetime import timedelta

import pytest
from django.db import IntegrityError, OperationalError, connection, transaction
from django.test import TransactionTestCase
from django.urls import reverse
from django.utils import timezone

from haven.accounts.models import User
from haven.care import services
from haven.care.models import (
    AppointmentStatus,
    BookingMode,
    Practitioner,
    Service,
    Slot,
    VisitType,
)
from haven.care.tests.world import _tomorrow_at, book, world
from haven.testing.people import HavenTestCase, make_user

DROP_OVERLAP_GUARD = {
    "postgresql": [
        "SET CONSTRAINTS ALL IMMEDIATE",  # no pending foreign-key checks before the ALTER
        "ALTER TABLE care_slot DROP CONSTRAINT care_slot_no_overlap",
    ],
    "sqlite": [
        "DROP TRIGGER care_slot_no_overlap_insert",
        "DROP TRIGGER care_slot_no_overlap_update",
    ],
}


def starts(service: Service) -> list:
    return [
        timezone.localtime(slot.starts_at).strftime("%H:%M")
        for slot in Slot.objects.filter(service=service).order_by("starts_at")
    ]


class ProviderVisitsTests(HavenTestCase):
    def setUp(self):
        super().setUp()
        self.world = world(self)
        self.url = reverse("care:provider_services")

    @pytest.mark.promise("CARE-2")
    def test_the_practice_adds_a_visit_that_members_request_and_staff_confirm(self):
        self.sign_in(self.provider)
        response = self.client.post(
            self.url,
            {"service": "new", "new-visit_type": VisitType.VIDEO, "new-booking": "request"},
            follow=True,
        )
        self.assertRedirects(response, self.url)
        self.assertContains(response, "The visit is added.")
        video = Service.objects.get(practitioner=self.world.kim, visit_type=VisitType.VIDEO)
        self.assertEqual(video.booking, BookingMode.REQUEST)
        self.assertContains(response, f'name="s{video.pk}-booking"')

        slot = self.world.fresh_slot(video)
        appointment = book(self, self.alice, slot)
        self.assertEqual(appointment.status, AppointmentStatus.REQUESTED)

    @pytest.mark.promise("CARE-2")
    def test_the_practice_chooses_per_visit_direct_booking_request_or_view_only(self):
        self.sign_in(self.provider)
        follow_up = self.world.follow_up
        response = self.client.post(
            self.url,
            {
                "service": str(follow_up.pk),
                f"s{follow_up.pk}-booking": "direct",
                f"s{follow_up.pk}-duration_minutes": "45",
            },
            follow=True,
        )
        self.assertRedirects(response, self.url)
        self.assertContains(response, "Saved.")
        follow_up.refresh_from_db()
        self.assertEqual((follow_up.booking, follow_up.duration_minutes), ("direct", 45))
        booked = book(self, self.alice, self.world.request_slots[0])
        self.assertEqual(booked.status, AppointmentStatus.CONFIRMED)

        new_patient = self.world.new_patient
        self.client.post(
            self.url,
            {
                "service": str(new_patient.pk),
                f"s{new_patient.pk}-booking": "view_only",
                f"s{new_patient.pk}-duration_minutes": "30",
            },
        )
        new_patient.refresh_from_db()
        self.assertEqual(new_patient.booking, BookingMode.VIEW_ONLY)
        with self.assertRaisesMessage(services.BookingRefused, "by phone only"):
            book(self, self.bruno, self.world.direct_slots[0])

    def test_a_visit_form_with_a_mistake_changes_nothing_and_says_why(self):
        self.sign_in(self.provider)
        follow_up = self.world.follow_up
        response = self.client.post(
            self.url,
            {
                "service": str(follow_up.pk),
                f"s{follow_up.pk}-booking": "direct",
                f"s{follow_up.pk}-duration_minutes": "2",
            },
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Ensure this value is greater than or equal to 5.")
        follow_up.refresh_from_db()
        self.assertEqual((follow_up.booking, follow_up.duration_minutes), ("request", 30))

    def test_only_the_practice_changes_its_visits(self):
        follow_up = self.world.follow_up
        data = {
            "service": str(follow_up.pk),
            f"s{follow_up.pk}-booking": "direct",
            f"s{follow_up.pk}-duration_minutes": "30",
        }
        self.sign_in(self.world.drcosta)  # another practice: its page lists only its own visits
        self.client.post(self.url, data)
        self.sign_in(self.alice)
        self.assertEqual(self.client.post(self.url, data).status_code, 403)
        follow_up.refresh_from_db()
        self.assertEqual(follow_up.booking, BookingMode.REQUEST)
        with self.assertRaises(services.PermissionDenied):
            services.service_update(
                service=follow_up,
                booking="direct",
                duration_minutes=30,
                actor=self.world.drcosta,
            )


class PublishingTimesTests(HavenTestCase):
    def setUp(self):
        super().setUp()
        self.world = world(self)
        self.url = reverse("care:provider_availability")
        self.tomorrow = timezone.localdate() + timedelta(days=1)

    def publish(self, service, first_day, last_day, start, end, weekdays=None):
        weekdays = [first_day.weekday()] if weekdays is None else weekdays
        return self.client.post(
            self.url,
            {
                "service": service.pk,
                "first_day": first_day.isoformat(),
                "last_day": last_day.isoformat(),
                "weekdays": weekdays,
                "start": start,
                "end": end,
            },
            follow=True,
        )

    @pytest.mark.promise("CARE-2")
    def test_the_practice_publishes_free_times_that_members_then_book(self):
        self.sign_in(self.provider)
        video = services.service_add(
            practitioner=self.world.kim,
            visit_type=VisitType.VIDEO,
            booking=BookingMode.DIRECT,
            actor=self.provider,
        )
        day = self.tomorrow + timedelta(days=5)
        response = self.publish(video, day, day, "14:00", "16:00")
        self.assertRedirects(response, self.url)
        self.assertContains(response, "4 times published.")
        self.assertEqual(starts(video), ["14:00", "14:30", "15:00", "15:30"])
        # Publishing the same again keeps what is there.
        self.assertContains(self.publish(video, day, day, "14:00", "16:00"), "0 times published.")
        slot = Slot.objects.filter(service=video).order_by("starts_at").first()
        self.sign_in(self.alice)
        page = self.client.get(reverse("care:practitioner", args=[self.world.kim.pk]))
        self.assertContains(page, reverse("care:book", args=[slot.pk]))
        self.assertEqual(book(self, self.alice, slot).status, AppointmentStatus.CONFIRMED)

    @pytest.mark.promise("CARE-2")
    def test_new_times_never_overlap_the_times_of_another_visit(self):
        """Dr Kim's new-patient times run from 9:00 to 12:00 tomorrow; 45-minute follow-ups
        published from 7:00 to 14:00 keep out of them."""
        self.sign_in(self.provider)
        follow_up = self.world.follow_up
        services.service_update(
            service=follow_up, booking="request", duration_minutes=45, actor=self.provider
        )
        response = self.publish(follow_up, self.tomorrow, self.tomorrow, "07:00", "14:00")
        self.assertContains(response, "4 times published.")
        tomorrow = [
            timezone.localtime(slot.starts_at).strftime("%H:%M")
            for slot in Slot.objects.filter(
                service=follow_up, starts_at__date=self.tomorrow
            ).order_by("starts_at")
        ]
        # 8:30-9:15 and 11:30-12:15 would overlap the new-patient times: left out.
        self.assertEqual(tomorrow, ["07:00", "07:45", "12:15", "13:00"])
        every = list(
            Slot.objects.filter(practitioner=self.world.kim, withdrawn_at__isnull=True)
            .order_by("starts_at")
            .values_list("starts_at", "ends_at")
        )
        for (_start, end), (next_start, _end) in zip(every, every[1:], strict=False):
            self.assertLessEqual(end, next_start)

    def test_impossible_dates_are_refused_with_the_reason(self):
        self.sign_in(self.provider)
        response = self.publish(
            self.world.new_patient,
            self.tomorrow + timedelta(days=3),
            self.tomorrow,
            "09:00",
            "10:00",
            weekdays=[0, 1, 2, 3, 4, 5, 6],
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Choose dates from today on, the last not before the first.")
        before = Slot.objects.count()
        response = self.publish(
            self.world.new_patient, self.tomorrow, self.tomorrow, "10:00", "09:00"
        )
        self.assertContains(response, "The end of the day must come after its start.")
        self.assertEqual(Slot.objects.count(), before)

    def test_only_providers_of_the_practice_publish(self):
        self.sign_in(self.alice)
        response = self.publish(
            self.world.new_patient, self.tomorrow, self.tomorrow, "14:00", "15:00"
        )
        self.assertEqual(response.status_code, 403)
        with self.assertRaises(services.PermissionDenied):
            services.availability_publish(
                service=self.world.new_patient,
                first_day=self.tomorrow,
                last_day=self.tomorrow,
                weekdays=[self.tomorrow.weekday()],
                start=_tomorrow_at(14).time(),
                end=_tomorrow_at(15).time(),
                actor=self.world.drcosta,
            )
        self.assertFalse(Slot.objects.filter(starts_at=_tomorrow_at(14)).exists())


class OverlapTests(HavenTestCase):
    def setUp(self):
        super().setUp()
        self.world = world(self)

    @pytest.mark.promise("CARE-2")
    def test_the_database_refuses_overlapping_times_of_one_practice(self):
        taken = self.world.direct_slots[-1]  # the last new-patient visit, 11:30-12:00 tomorrow
        overlapping = {
            "practitioner": self.world.kim,
            "service": self.world.follow_up,
            "starts_at": taken.starts_at + timedelta(minutes=15),
            "ends_at": taken.ends_at + timedelta(minutes=15),
        }
        with self.assertRaises(IntegrityError), transaction.atomic():
            Slot.objects.create(**overlapping)
        # Another practice at the same time, or a withdrawn time, is no overlap.
        Slot.objects.create(
            practitioner=self.world.costa,
            service=self.world.consultation,
            starts_at=overlapping["starts_at"],
            ends_at=overlapping["ends_at"],
        )
        services.slot_withdraw(slot=taken, actor=self.provider)
        Slot.objects.create(**overlapping)

    @pytest.mark.promise("CARE-2")
    def test_overlapping_times_written_around_the_guard_cannot_both_be_booked(self):
        with connection.cursor() as cursor:
            for statement in DROP_OVERLAP_GUARD[connection.vendor]:
                cursor.execute(statement)
        first = self.world.direct_slots[0]
        second = Slot.objects.create(
            practitioner=self.world.kim,
            service=self.world.follow_up,
            starts_at=first.starts_at + timedelta(minutes=15),
            ends_at=first.ends_at + timedelta(minutes=15),
        )
        book(self, self.alice, first)
        with self.assertRaisesMessage(services.BookingRefused, "already has an appointment"):
            book(self, self.bruno, second)
        moved = book(self, self.bruno, self.world.direct_slots[3])
        with self.assertRaisesMessage(services.BookingRefused, "already has an appointment"):
            services.appointment_move(appointment=moved, slot=second, actor=self.bruno)


@pytest.mark.postgres
class ConcurrentPublishingTests(TransactionTestCase):
    """Two of the practice's staff publish at once for two visits over the same hours."""

    def setUp(self):
        administrator = make_user("admin", User.Kind.STAFF, staff_role="administrator")
        self.staff = [make_user(f"office{n}", User.Kind.PROVIDER) for n in range(2)]
        self.practice = services.practitioner_save(
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
        for user in self.staff:
            services.provider_account_link(
                user=user, practitioner=self.practice, actor=administrator
            )
        self.visits = [
            Service.objects.create(
                practitioner=self.practice, visit_type=kind, duration_minutes=minutes
            )
            for kind, minutes in ((VisitType.NEW_PATIENT, 30), (VisitType.FOLLOW_UP, 45))
        ]

    def run_at_once(self, work) -> tuple[list, list]:
        barrier = threading.Barrier(len(work))
        results, errors = [], []

        def attempt(task):
            try:
                barrier.wait()
                results.append(task())
            except Exception as error:  # reported to the main thread
                errors.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=attempt, args=(task,)) for task in work]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return results, errors

    @pytest.mark.promise("CARE-2")
    def test_publishing_at_once_leaves_no_overlapping_times(self):
        day = timezone.localdate() + timedelta(days=2)
        from datetime import time

        def publish(user, service):
            return lambda: services.availability_publish(
                service=service,
                first_day=day,
                last_day=day + timedelta(days=6),
                weekdays=list(range(7)),
                start=time(8, 0),
                end=time(17, 0),
                actor=user,
            )

        results, errors = self.run_at_once(
            [publish(self.staff[0], self.visits[0]), publish(self.staff[1], self.visits[1])]
        )
        self.assertEqual(errors, [])
        every = list(
            Slot.objects.filter(practitioner=self.practice)
            .order_by("starts_at")
            .values_list("starts_at", "ends_at")
        )
        self.assertEqual(sum(results), len(every))
        self.assertGreater(len(every), 0)
        for (_start, end), (next_start, _end) in zip(every, every[1:], strict=False):
            self.assertLessEqual(end, next_start)

    @pytest.mark.promise("CARE-2")
    def test_the_constraint_refuses_one_of_two_overlapping_times_written_at_once(self):
        start = timezone.now().replace(microsecond=0) + timedelta(days=3)

        def write(service, offset):
            def task():
                with transaction.atomic():
                    Slot.objects.create(
                        practitioner=self.practice,
                        service=service,
                        starts_at=start + offset,
                        ends_at=start + offset + timedelta(minutes=30),
                    )
                return service.pk

            return task

        results, errors = self.run_at_once(
            [write(self.visits[0], timedelta()), write(self.visits[1], timedelta(minutes=10))]
        )
        self.assertEqual(len(results), 1)
        self.assertEqual(len(errors), 1)
        # When both inserts check the constraint against each other's uncommitted row at the
        # same moment, PostgreSQL refuses one as a deadlock (40P01) instead of a violation.
        refusal = errors[0]
        deadlock = getattr(refusal.__cause__, "sqlstate", None) == "40P01"
        self.assertTrue(
            isinstance(refusal, IntegrityError)
            or (isinstance(refusal, OperationalError) and deadlock),
            repr(refusal),
        )
        self.assertEqual(Slot.objects.filter(practitioner=self.practice).count(), 1)
