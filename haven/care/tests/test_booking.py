from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse

from haven.care import services
from haven.care.models import Appointment, AppointmentStatus, Reminder
from haven.care.tests.world import book, world
from haven.mail.models import OutgoingEmail
from haven.privacy.models import Channel, Kind
from haven.privacy.services import contact_preferences_update
from haven.testing.people import HavenTestCase


class BookingTests(HavenTestCase):
    def setUp(self):
        super().setUp()
        self.world = world(self)

    @pytest.mark.promise("CARE-2")
    def test_a_member_books_a_direct_visit_from_the_practice_page(self):
        self.sign_in(self.alice)
        slot = self.world.direct_slots[0]
        page = self.client.get(reverse("care:practitioner", args=[self.world.kim.pk]))
        self.assertContains(page, reverse("care:book", args=[slot.pk]))
        response = self.client.post(
            reverse("care:book", args=[slot.pk]), {"shared": ["contact"], "reminders": ["day"]}
        )
        appointment = Appointment.objects.get(member=self.alice_member)
        self.assertRedirects(response, reverse("care:appointment", args=[appointment.pk]))
        self.assertEqual(appointment.status, AppointmentStatus.CONFIRMED)
        listing = self.client.get(reverse("care:appointments"))
        self.assertContains(listing, "Confirmed")

    @pytest.mark.promise("CON-6")
    def test_where_consent_is_the_basis_a_reason_for_the_visit_waits_for_it(self):
        from django.test import override_settings

        from haven.privacy.services import medical_data_consent_record

        shared = ("contact", "visit")
        with override_settings(HAVEN_MEDICAL_DATA_CONSENT=True):
            with self.assertRaisesMessage(services.BookingRefused, "asks for consent"):
                book(
                    self, self.alice, self.world.direct_slots[0], shared=shared, reason="Knee pain"
                )
            self.assertFalse(Appointment.objects.exists())
            # Without a reason nothing medical is kept, so the visit can be booked.
            book(self, self.alice, self.world.direct_slots[0], shared=("contact",))
            medical_data_consent_record(
                user=self.alice, member=self.alice_member, given=True, actor=self.alice
            )
            booked = book(
                self, self.alice, self.world.direct_slots[1], shared=shared, reason="Knee pain"
            )
        self.assertEqual(booked.status, AppointmentStatus.CONFIRMED)

    @pytest.mark.promise("CARE-2")
    def test_a_request_waits_for_the_practice_which_confirms_or_declines(self):
        requested = book(self, self.alice, self.world.request_slots[0])
        self.assertEqual(requested.status, AppointmentStatus.REQUESTED)
        self.sign_in(self.provider)
        self.client.post(reverse("care:decide", args=[requested.pk]), {"decision": "confirm"})
        requested.refresh_from_db()
        self.assertEqual(requested.status, AppointmentStatus.CONFIRMED)

        other = book(self, self.bruno, self.world.request_slots[1])
        self.client.post(reverse("care:decide", args=[other.pk]), {"decision": "decline"})
        other.refresh_from_db()
        self.assertEqual(other.status, AppointmentStatus.DECLINED)
        again = book(self, self.elena, self.world.request_slots[1])
        self.assertEqual(again.status, AppointmentStatus.REQUESTED)

    @pytest.mark.promise("CARE-2")
    def test_view_only_visits_cannot_be_booked_online(self):
        with self.assertRaises(services.BookingRefused):
            book(self, self.alice, self.world.view_only_slots[0])

    @pytest.mark.promise("CARE-2")
    def test_a_member_moves_and_cancels_and_the_time_is_free_again(self):
        appointment = book(self, self.alice, self.world.direct_slots[0])
        self.sign_in(self.alice)
        new_slot = self.world.direct_slots[3]
        self.client.post(reverse("care:move", args=[appointment.pk]), {"slot": new_slot.pk})
        appointment.refresh_from_db()
        self.assertEqual(appointment.slot, new_slot)
        self.assertEqual(list(appointment.events.values_list("what", flat=True))[-1], "moved")
        taken = book(self, self.bruno, self.world.direct_slots[0])
        self.assertEqual(taken.status, AppointmentStatus.CONFIRMED)

        self.client.post(reverse("care:cancel", args=[appointment.pk]))
        appointment.refresh_from_db()
        self.assertEqual(appointment.status, AppointmentStatus.CANCELLED)
        self.assertEqual(book(self, self.elena, new_slot).status, AppointmentStatus.CONFIRMED)

    @pytest.mark.promise("CARE-2")
    def test_a_taken_time_cannot_be_booked_twice_and_the_database_refuses_it_too(self):
        first = book(self, self.alice, self.world.direct_slots[0])
        with self.assertRaises(services.BookingRefused):
            book(self, self.bruno, self.world.direct_slots[0])
        clone = Appointment(
            slot=first.slot,
            practitioner=first.practitioner,
            service=first.service,
            member=self.bruno_member,
            booked_by=self.bruno,
            status=AppointmentStatus.REQUESTED,
        )
        clone.start_envelope()
        with self.assertRaises(IntegrityError), transaction.atomic():
            clone.save()

    @pytest.mark.promise("CARE-2")
    def test_a_caregiver_books_within_the_appointments_scope_and_nobody_books_for_strangers(self):
        appointment = book(
            self, self.maria, self.world.direct_slots[1], member=self.elena_member, shared=["visit"]
        )
        self.assertEqual(appointment.grant, self.maria_grant)
        with self.assertRaises(PermissionDenied):
            services.booking_for(self.oscar, self.alice_member)
        with self.assertRaises(PermissionDenied):
            services.booking_for(self.maria, self.alice_member)

    def test_nobody_else_can_move_or_cancel_it(self):
        appointment = book(self, self.alice, self.world.direct_slots[0])
        self.sign_in(self.oscar)
        self.assertEqual(
            self.client.post(reverse("care:cancel", args=[appointment.pk])).status_code, 404
        )
        appointment.refresh_from_db()
        self.assertEqual(appointment.status, AppointmentStatus.CONFIRMED)


class ReminderTests(HavenTestCase):
    def setUp(self):
        super().setUp()
        self.world = world(self)

    def due(self, appointment):
        return appointment.slot.starts_at - timedelta(minutes=30)

    @pytest.mark.promise("CARE-2")
    def test_the_reminders_chosen_are_sent_and_say_only_when(self):
        appointment = book(
            self,
            self.alice,
            self.world.fresh_slot(),
            reminders=["day", "hours"],
            shared=["visit"],
            reason="knee pain",
        )
        self.assertEqual(
            sorted(appointment.reminders_due.values_list("kind", flat=True)), ["day", "hours"]
        )
        sent = services.reminders_send_due(now=self.due(appointment))
        self.assertEqual(sent, 2)
        emails = OutgoingEmail.objects.filter(to_address="alice@example.org", category="reminder")
        self.assertEqual(emails.count(), 2)
        body = emails.first().text_body
        self.assertIn(f"/care/appointments/{appointment.pk}/", body)
        for private in ("knee", "Kim", "Family medicine", "Jefferson"):
            self.assertNotIn(private, body)

    @pytest.mark.promise("CARE-2")
    def test_no_reminder_goes_to_someone_who_does_not_take_appointment_reminders(self):
        contact_preferences_update(
            user=self.alice,
            choices={(Channel.EMAIL, Kind.APPOINTMENT_REMINDERS): False},
            actor=self.alice,
        )
        appointment = book(self, self.alice, self.world.fresh_slot(), reminders=["day"])
        services.reminders_send_due(now=self.due(appointment))
        self.assertEqual(appointment.reminders_due.get().status, Reminder.Status.SKIPPED)
        self.assertFalse(OutgoingEmail.objects.filter(category="reminder").exists())

    def test_a_cancelled_appointment_sends_no_reminder(self):
        appointment = book(self, self.alice, self.world.fresh_slot(), reminders=["day"])
        services.appointment_cancel(appointment=appointment, actor=self.alice)
        services.reminders_send_due(now=self.due(appointment))
        self.assertEqual(appointment.reminders_due.get().status, Reminder.Status.WITHDRAWN)
