"""RIG-1, RIG-2, RIG-7, ACC-11: rights requests with identity checks, deadlines from the configured
law, a status the member follows, the access archive, corrections and account deletion."""

import io
import json
import time
import zipfile
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from haven.accounts.models import User
from haven.accounts.sessions import REAUTHENTICATED_AT
from haven.audit.models import AuditEvent, EventType
from haven.audit.tests.training import train_all_staff
from haven.mail.models import OutgoingEmail
from haven.privacy import facts, services
from haven.privacy.models import Archive, Erasure, RequestStatus, RightsRequest
from haven.privacy.tests.helpers import conversation_with, run_worker
from haven.records.models import HealthDocument
from haven.testing.people import HavenTestCase


def reauthenticated(client):
    session = client.session
    session[REAUTHENTICATED_AT] = time.time()
    session.save()
    return client


class DeadlineTests(HavenTestCase):
    @pytest.mark.promise("RIG-7")
    def test_hipaa_deadlines_are_30_60_and_60_days_each_extendable_by_30(self):
        start = date(2026, 1, 31)
        self.assertEqual(facts.DEADLINES["hipaa"]["access"].due(start), date(2026, 3, 2))
        self.assertEqual(facts.DEADLINES["hipaa"]["correction"].due(start), date(2026, 4, 1))
        self.assertEqual(facts.DEADLINES["hipaa"]["accounting"].due(start), date(2026, 4, 1))
        self.assertEqual(
            facts.DEADLINES["hipaa"]["access"].extended(date(2026, 3, 2)), date(2026, 4, 1)
        )

    @pytest.mark.promise("RIG-7")
    def test_gdpr_counts_a_calendar_month_not_thirty_days_and_extends_by_two_months(self):
        rule = facts.DEADLINES["gdpr"]["access"]
        self.assertEqual(rule.due(date(2026, 1, 31)), date(2026, 2, 28))
        self.assertEqual(rule.due(date(2028, 1, 31)), date(2028, 2, 29))
        self.assertEqual(rule.due(date(2026, 3, 15)), date(2026, 4, 15))
        self.assertEqual(rule.extended(date(2026, 4, 15)), date(2026, 6, 15))

    @pytest.mark.promise("RIG-7")
    @override_settings(HAVEN_PRIVACY_LAW="gdpr")
    def test_a_request_takes_its_deadline_from_the_configured_law(self):
        made = services.rights_request_create(
            kind="correction",
            requester=self.alice,
            member=self.alice_member,
            identity="password",
            field="city",
            proposed_value="New Haven",
        )
        received = timezone.localdate(made.received_at)
        self.assertEqual(made.law, "gdpr")
        self.assertEqual(made.due_on, facts.add_months(received, 1))

    @pytest.mark.promise("RIG-7")
    def test_staff_extend_once_with_a_reason_the_member_is_told_inside_the_first_period(self):
        made = services.rights_request_create(
            kind="correction",
            requester=self.alice,
            member=self.alice_member,
            identity="password",
            field="city",
            proposed_value="New Haven",
        )
        with self.assertRaises(ValidationError):
            services.rights_request_extend(request=made, reason="  ", actor=self.privacy_officer)
        extended = services.rights_request_extend(
            request=made,
            reason="We are checking the roster with your employer.",
            actor=self.privacy_officer,
        )
        self.assertEqual(extended.extended_due_on, made.due_on + timedelta(days=30))
        self.assertEqual(extended.status, RequestStatus.EXTENDED)
        email = OutgoingEmail.objects.get(user=self.alice, category="answer")
        self.assertNotIn("roster", email.text_body)
        with self.assertRaises(ValidationError):
            services.rights_request_extend(
                request=extended, reason="Again", actor=self.privacy_officer
            )
        self.sign_in(self.alice)
        page = self.client.get(reverse("privacy:request_detail", kwargs={"pk": made.pk}))
        self.assertContains(page, "We are checking the roster with your employer.")

    @pytest.mark.promise("RIG-7")
    def test_an_extension_after_the_first_deadline_is_refused(self):
        made = services.rights_request_create(
            kind="access", requester=self.bruno, member=self.bruno_member, identity="password"
        )
        RightsRequest.objects.filter(pk=made.pk).update(
            due_on=timezone.localdate() - timedelta(days=1)
        )
        made.refresh_from_db()
        with self.assertRaises(ValidationError):
            services.rights_request_extend(
                request=made, reason="Too busy", actor=self.privacy_officer
            )

    @pytest.mark.promise("RIG-7")
    def test_the_officer_dashboard_shows_every_open_request_its_deadline_and_the_late_ones(self):
        late = services.rights_request_create(
            kind="correction",
            requester=self.alice,
            member=self.alice_member,
            identity="password",
            field="city",
            proposed_value="New Haven",
        )
        RightsRequest.objects.filter(pk=late.pk).update(
            due_on=timezone.localdate() - timedelta(days=2)
        )
        on_time = services.rights_request_create(
            kind="deletion", requester=self.bruno, member=self.bruno_member, identity="password"
        )
        closed = services.rights_request_create(
            kind="accounting", requester=self.elena, member=self.elena_member, identity="password"
        )
        self.sign_in(self.privacy_officer)
        with CaptureQueriesContext(connection) as few:
            self.client.get(reverse("privacy:dashboard"))
        for member, requester in ((self.teo_member, self.alice), (self.oscar_member, self.oscar)):
            services.rights_request_create(
                kind="access", requester=requester, member=member, identity="password"
            )
        with CaptureQueriesContext(connection) as more:
            page = self.client.get(reverse("privacy:dashboard"))
        self.assertEqual(len(more), len(few), "one query for the list, however long")
        self.assertContains(page, f"#{late.pk} ")
        self.assertContains(page, f"#{on_time.pk} ")
        self.assertNotContains(page, f"#{closed.pk} ")
        self.assertContains(page, '<tr class="late">', count=1)
        self.assertContains(page, "1 late")


class AccessArchiveTests(HavenTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        train_all_staff(cls)
        conversation_with(cls.alice_member, cls.alice, ["My knee hurts.", "Still hurts."])
        conversation_with(
            cls.alice_member, cls.alice, ["Private"], sensitive_category="mental_health"
        )
        HealthDocument.objects.create(
            member=cls.alice_member,
            title="Visit summary",
            category="visit_summary",
            content="BP 118/76",
        )
        HealthDocument.objects.create(
            member=cls.teo_member, title="Teo's vaccines", category="immunization", content="MMR"
        )

    def request_archive(self, client) -> RightsRequest:
        reauthenticated(client)
        response = client.post(reverse("privacy:request_new", kwargs={"kind": "access"}))
        made = RightsRequest.objects.latest("pk")
        self.assertRedirects(response, reverse("privacy:request_detail", kwargs={"pk": made.pk}))
        return made

    def download(self, client, made) -> zipfile.ZipFile:
        response = client.post(reverse("privacy:request_download", kwargs={"pk": made.pk}))
        self.assertEqual(response.status_code, 302)
        archive = client.get(response["Location"])
        self.assertEqual(archive.status_code, 200)
        self.assertEqual(archive["Content-Type"], "application/zip")
        return zipfile.ZipFile(io.BytesIO(archive.content))

    @pytest.mark.promise("RIG-1")
    def test_a_member_gets_everything_as_json_fhir_and_a_readable_summary(self):
        self.sign_in(self.alice)
        made = self.request_archive(self.client)
        self.assertEqual(Archive.objects.get(request=made).status, Archive.Status.QUEUED)
        page = self.client.get(reverse("privacy:request_detail", kwargs={"pk": made.pk}))
        self.assertContains(page, "<progress")
        run_worker()
        page = self.client.get(reverse("privacy:request_detail", kwargs={"pk": made.pk}))
        self.assertContains(page, "Your copy is ready")
        with self.download(self.client, made) as archive:
            self.assertEqual(
                sorted(archive.namelist()), ["fhir-bundle.json", "haven-data.json", "summary.html"]
            )
            data = json.loads(archive.read("haven-data.json"))
            bundle = json.loads(archive.read("fhir-bundle.json"))
            summary = archive.read("summary.html").decode()
        self.assertEqual(data["record"]["member_id"], "M-ALICE")
        self.assertEqual(data["account"]["email"], "alice@example.org")
        bodies = [m["body"] for c in data["messages"] for m in c["messages"]]
        self.assertEqual(sorted(bodies), ["My knee hurts.", "Private", "Still hurts."])
        self.assertEqual([d["title"] for d in data["documents"]], ["Visit summary"])
        self.assertTrue(data["access_history"])
        Bundle.model_validate(bundle)
        kinds = [entry["resource"]["resourceType"] for entry in bundle["entry"]]
        self.assertEqual(kinds[:2], ["Patient", "Coverage"])
        self.assertEqual(kinds.count("Communication"), 3)
        self.assertIn("Alice", summary)
        export = AuditEvent.objects.get(type=EventType.EXPORT, member=self.alice_member)
        self.assertEqual(export.actor, self.alice)

    @pytest.mark.promise("RIG-1")
    def test_a_guardian_gets_the_childs_archive_without_sensitive_categories(self):
        self.sign_in(self.alice)
        session = self.client.session
        session["haven_acting_for_grant"] = self.teo_guardian_grant.pk
        session.save()
        made = self.request_archive(self.client)
        self.assertEqual((made.member, made.identity), (self.teo_member, "grant"))
        run_worker()
        with self.download(self.client, made) as archive:
            data = json.loads(archive.read("haven-data.json"))
        self.assertEqual(data["record"]["member_id"], "M-TEO")
        self.assertEqual([d["title"] for d in data["documents"]], ["Teo's vaccines"])

    @pytest.mark.promise("RIG-1")
    def test_the_request_needs_the_password_again_and_the_link_only_opens_for_its_owner(self):
        self.sign_in(self.alice)
        session = self.client.session
        session[REAUTHENTICATED_AT] = time.time() - 3600
        session.save()
        response = self.client.post(reverse("privacy:request_new", kwargs={"kind": "access"}))
        self.assertIn(reverse("accounts:confirm_password"), response["Location"])
        self.assertFalse(RightsRequest.objects.exists())
        made = self.request_archive(self.client)
        run_worker()
        link = self.client.post(reverse("privacy:request_download", kwargs={"pk": made.pk}))[
            "Location"
        ]
        other = self.sign_in(self.bruno, self.client_class())
        self.assertEqual(other.get(link).status_code, 404)
        self.assertEqual(
            other.post(reverse("privacy:request_download", kwargs={"pk": made.pk})).status_code, 404
        )

    @pytest.mark.promise("RIG-1")
    def test_an_expired_link_shows_a_readable_page_and_the_copy_is_deleted(self):
        self.sign_in(self.alice)
        made = self.request_archive(self.client)
        run_worker()
        link = self.client.post(reverse("privacy:request_download", kwargs={"pk": made.pk}))[
            "Location"
        ]
        Archive.objects.filter(request=made).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
        response = self.client.get(link)
        self.assertEqual(response.status_code, 410)
        self.assertContains(response, "This download link has expired", status_code=410)
        self.assertContains(response, "Ask for a new copy", status_code=410)
        self.assertEqual(services.archives_expire(), 1)
        self.assertEqual(bytes(Archive.objects.get(request=made).content_sealed), b"")

    def archive_data(self, user, member) -> dict:
        made = services.rights_request_create(
            kind="access", requester=user, member=member, identity="password"
        )
        run_worker()
        with zipfile.ZipFile(io.BytesIO(Archive.objects.get(request=made).content())) as archive:
            return json.loads(archive.read("haven-data.json")), archive.read(
                "summary.html"
            ).decode()

    @pytest.mark.promise("RIG-1")
    def test_the_archive_holds_reviews_booking_choices_applications_and_connected_apps(self):
        from haven.care.services import review_save
        from haven.care.tests.world import book, world
        from haven.fhir.models import Authorisation
        from haven.fhir.tests.flow import make_app
        from haven.plans.models import Application, Product

        care = world(self)
        book(self, self.alice, care.direct_slots[0], reminders=["day"])
        review_save(practitioner=care.kim, rating=5, text="Listened carefully.", actor=self.alice)
        product = Product.objects.create(code="SILVER-2", name="Silver", year=2026)
        application = Application.objects.create(
            product=product,
            first_name="Alice",
            last_name="Rivera",
            date_of_birth=date(1986, 5, 1),
            address_line="1 Elm St",
            city="Hartford",
            region="CT",
            postal_code="06103",
            phone="860 555 0100",
            submitted_by=self.alice,
        )
        application.people.create(
            relationship="child",
            first_name="Teo",
            last_name="Rivera",
            date_of_birth=date(2015, 1, 1),
        )
        Authorisation.objects.create(
            app=make_app(),
            user=self.alice,
            member=self.alice_member,
            scope="patient/*.rs",
            approved_at=timezone.now(),
        )
        data, summary = self.archive_data(self.alice, self.alice_member)
        self.assertEqual(
            [(r["practitioner"], r["rating"], r["text"]) for r in data["care"]["reviews"]],
            [(care.kim.display_name, 5, "Listened carefully.")],
        )
        self.assertEqual(data["care"]["booking_preferences"]["reminders"], ["day"])
        [sent] = data["plans"]["applications"]
        self.assertEqual(
            (sent["reference"], sent["phone"]), (application.reference, "860 555 0100")
        )
        self.assertEqual([p["first_name"] for p in sent["people"]], ["Teo"])
        [app] = data["connected_apps"]
        self.assertEqual((app["app"], app["connected_by"]), ("Budget Buddy", "you"))
        self.assertEqual(app["scopes"], ["patient/*.rs"])
        self.assertEqual(len(data["appointments"]), 1)
        self.assertIn("contact", data["appointments"][0]["shared_with_practice"])
        self.assertIn("Budget Buddy", summary)

    @pytest.mark.promise("RIG-1")
    def test_a_consumers_archive_holds_their_own_appointments(self):
        from haven.care.tests.world import book, world

        care = world(self)
        book(
            self,
            self.consumer,
            care.direct_slots[1],
            member=None,
            shared=("visit",),
            reason="Back pain",
        )
        data, _summary = self.archive_data(self.consumer, None)
        [appointment] = data["appointments"]
        self.assertEqual(appointment["reason"], "Back pain")
        self.assertEqual(data["care"]["booking_preferences"]["shared"], ["visit"])
        # The sharing is in the archive's accounting of disclosures too.
        [disclosure] = data["disclosures"]
        self.assertEqual(disclosure["recipient"], care.kim.recipient.name)

    @pytest.mark.promise("RIG-1")
    def test_the_archive_is_stored_encrypted(self):
        made = services.rights_request_create(
            kind="access", requester=self.alice, member=self.alice_member, identity="password"
        )
        run_worker()
        archive = Archive.objects.get(request=made)
        self.assertNotIn(b"M-ALICE", bytes(archive.content_sealed))
        self.assertIn(b"haven-data.json", archive.content())


class CorrectionTests(HavenTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        train_all_staff(cls)

    def ask(self, field="city", value="New Haven") -> RightsRequest:
        self.sign_in(self.alice)
        reauthenticated(self.client)
        self.client.post(
            reverse("privacy:request_new", kwargs={"kind": "correction"}),
            {"field": field, "proposed_value": value, "details": "I moved."},
        )
        return RightsRequest.objects.get(kind="correction")

    @pytest.mark.promise("RIG-2")
    def test_staff_correct_an_inaccurate_item_through_the_audited_accessor(self):
        made = self.ask()
        staff = self.sign_in(self.representative, self.client_class())
        page = staff.get(reverse("privacy:staff_request", kwargs={"pk": made.pk}))
        self.assertContains(page, "Hartford")
        staff.post(
            reverse("privacy:staff_request", kwargs={"pk": made.pk}),
            {"action": "correct", "correct-value": "New Haven", "correct-purpose": "operations"},
        )
        self.alice_member.refresh_from_db()
        self.assertEqual(self.alice_member.city, "New Haven")
        made.refresh_from_db()
        self.assertEqual(made.status, RequestStatus.COMPLETED)
        change = AuditEvent.objects.get(member=self.alice_member, subtype="update")
        self.assertEqual(
            (change.actor, change.entity), (self.representative, {"contact": ["city"]})
        )

    @pytest.mark.promise("RIG-2")
    def test_a_refusal_gives_a_reason_the_member_sees_and_they_may_attach_a_disagreement(self):
        made = self.ask(field="date_of_birth", value="1990-01-01")
        staff = self.sign_in(self.privacy_officer, self.client_class())
        staff.post(
            reverse("privacy:staff_request", kwargs={"pk": made.pk}),
            {
                "action": "refuse",
                "refuse-reason": "Your birth date matches your enrolment documents.",
            },
        )
        made.refresh_from_db()
        self.assertEqual(made.status, RequestStatus.REFUSED)
        page = self.client.get(reverse("privacy:request_detail", kwargs={"pk": made.pk}))
        self.assertContains(page, "Your birth date matches your enrolment documents.")
        self.client.post(
            reverse("privacy:request_detail", kwargs={"pk": made.pk}),
            {"statement": "My passport shows another date."},
        )
        made.refresh_from_db()
        self.assertEqual(made.disagreement, "My passport shows another date.")
        self.assertContains(
            staff.get(reverse("privacy:staff_request", kwargs={"pk": made.pk})),
            "My passport shows another date.",
        )

    @pytest.mark.promise("RIG-2")
    def test_a_correction_the_role_may_not_make_is_refused_by_the_accessor_and_stays_open(self):
        made = self.ask(field="date_of_birth", value="1990-01-01")
        staff = self.sign_in(self.representative, self.client_class())
        response = staff.post(
            reverse("privacy:staff_request", kwargs={"pk": made.pk}),
            {"action": "correct", "correct-value": "1990-01-01", "correct-purpose": "operations"},
            follow=True,
        )
        self.assertContains(response, "not open to you")
        made.refresh_from_db()
        self.assertTrue(made.is_open)
        self.assertNotEqual(self.alice_member.date_of_birth, date(1990, 1, 1))


class DeletionTests(HavenTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        train_all_staff(cls)

    @pytest.mark.promise("ACC-11")
    def test_the_member_reads_what_remains_before_asking(self):
        conversation_with(self.alice_member, self.alice, ["hello"], legal_hold=True)
        self.sign_in(self.alice)
        reauthenticated(self.client)
        page = self.client.get(reverse("privacy:request_new", kwargs={"kind": "deletion"}))
        self.assertContains(page, "Encrypted backups")
        self.assertContains(page, "legal hold")
        self.assertContains(page, "enrolment, coverage and claims")

    @pytest.mark.promise("ACC-11")
    def test_deletion_erases_the_account_records_each_field_and_states_what_remains(self):
        self.sign_in(self.alice)
        reauthenticated(self.client)
        self.client.post(
            reverse("privacy:request_new", kwargs={"kind": "deletion"}), {"confirm": "on"}
        )
        made = RightsRequest.objects.get(kind="deletion")
        officer = self.sign_in(self.privacy_officer, self.client_class())
        officer.post(
            reverse("privacy:staff_request", kwargs={"pk": made.pk}),
            {"action": "erase", "erase-confirm": "on"},
        )
        erasure = Erasure.objects.get(request=made)
        for name in ("first_name", "last_name", "email", "username"):
            self.assertIn(f"accounts.User.{name}", erasure.erased_fields)
        self.assertTrue(any("backups" in item["what"] for item in erasure.kept))
        user = User.objects.get(pk=self.alice.pk)
        self.assertEqual((user.first_name, user.email, user.is_active), ("", "", False))
        self.assertEqual(user.username, f"erased-{user.pk}")
        self.assertFalse(user.has_usable_password())
        made.refresh_from_db()
        self.assertEqual(made.status, RequestStatus.COMPLETED)
        self.assertFalse(self.client.get(reverse("privacy:requests")).status_code == 200)

    def erase(self, user, member=None) -> Erasure:
        made = services.rights_request_create(
            kind="deletion", requester=user, member=member, identity="password"
        )
        return services.account_erase(request=made, actor=self.privacy_officer)

    @pytest.mark.promise("ACC-11")
    def test_a_consumers_mail_care_and_applications_are_erased_and_what_remains_is_stated(self):
        from haven.care.models import (
            Appointment,
            AppointmentStatus,
            BookingPreference,
            Invitation,
            Reminder,
            Review,
        )
        from haven.care.services import invitations_send, review_save
        from haven.care.tests.world import book, world
        from haven.mail.models import OptOut, address_hash
        from haven.mail.services import email_opt_out, outbox_enqueue
        from haven.plans.models import Application, Product

        care = world(self)
        consumer = self.consumer
        consumer.email = "consuelo@example.org"
        consumer.save(update_fields=["email"])
        appointment = book(
            self,
            consumer,
            care.direct_slots[0],
            member=None,
            shared=("contact", "visit"),
            reason="Chest pain when climbing stairs",
            reminders=["day"],
        )
        self.assertTrue(appointment.reason())
        review_save(practitioner=care.kim, rating=4, text="Kind and on time.", actor=consumer)
        invitations_send(inviter=consumer, addresses=["friend@example.net"])
        outbox_enqueue(
            to_address=consumer.email,
            subject="Your appointment with Dr Kim",
            text_body="See you tomorrow",
            category="reminder",
            user=consumer,
            reason="test",
            idempotency_key="erase-test-1",
        )
        email_opt_out(user=consumer, categories=["newsletter"], source="preferences")
        product = Product.objects.create(code="SILVER-1", name="Silver", year=2026)
        applications = []
        for status in ("submitted", "declined"):
            applications.append(
                Application.objects.create(
                    product=product,
                    first_name="Consuelo",
                    last_name="Diaz",
                    date_of_birth=date(1990, 1, 1),
                    address_line="1 Elm St",
                    city="Hartford",
                    region="CT",
                    postal_code="06103",
                    email=consumer.email,
                    submitted_by=consumer,
                    status=status,
                    decided_by=None if status == "submitted" else self.representative,
                    decided_at=None if status == "submitted" else timezone.now(),
                )
            )

        before = services.what_remains(consumer, None)
        erasure = self.erase(consumer)

        self.assertEqual(erasure.kept, before)
        said = " ".join(item["what"] + " " + item["why"] for item in erasure.kept)
        for words in (
            "without your address, the subject or the text",
            "refusals of optional e-mail",
            "without the reason or what you shared",
            "What you shared with practices when booking: Ji-woo Kim",
            "Premium quotes",
        ):
            self.assertIn(words, said)
        # The outbox keeps a line per e-mail, nothing about the person; nothing waiting is sent.
        for email in OutgoingEmail.objects.all():
            self.assertEqual((email.to_address, email.subject, email.text_body), ("", "", ""))
            self.assertNotEqual(email.status, "queued")
        self.assertIn("mail.OutgoingEmail.to_address", erasure.erased_fields)
        # The refusal survives as the address's keyed hash, not linked to the account.
        self.assertFalse(OptOut.objects.filter(user=consumer).exists())
        self.assertTrue(
            OptOut.objects.filter(
                address_hash=address_hash("consuelo@example.org"), category="newsletter"
            ).exists()
        )
        self.assertFalse(BookingPreference.objects.filter(user=consumer).exists())
        self.assertFalse(Invitation.objects.filter(inviter=consumer).exists())
        self.assertFalse(Review.objects.exists())
        care.kim.refresh_from_db()
        self.assertEqual(care.kim.rating_count, 0)
        appointment = Appointment.objects.get(pk=appointment.pk)
        self.assertEqual(appointment.status, AppointmentStatus.CANCELLED)
        self.assertEqual((appointment.reason(), appointment.shared_data()), ("", {}))
        self.assertEqual(appointment.events.filter(what="cancelled").count(), 1)
        self.assertFalse(
            Reminder.objects.filter(appointment=appointment, status=Reminder.Status.PENDING)
        )
        for name in (
            "care.BookingPreference (all)",
            "care.Review (all)",
            "care.Appointment.reason",
        ):
            self.assertIn(name, erasure.erased_fields)
        self.assertFalse(Application.objects.filter(pk=applications[0].pk).exists())
        self.assertTrue(Application.objects.filter(pk=applications[1].pk).exists())
        self.assertIn("already decided", said)
        self.assertIn(
            "plans.Application (waiting for review, with its people)", erasure.erased_fields
        )

    @pytest.mark.promise("ACC-11")
    def test_a_members_apps_lose_their_access_and_the_authorisation_stays_for_the_accounting(
        self,
    ):
        from datetime import timedelta as delta

        from oauth2_provider.models import AccessToken, Grant, RefreshToken

        from haven.fhir.models import Authorisation, AuthorisationToken
        from haven.fhir.tests.flow import make_app

        app = make_app()
        expires = timezone.now() + delta(hours=1)
        grant = Grant.objects.create(
            user=self.alice,
            application=app.application,
            code="code-1",
            expires=expires,
            redirect_uri="https://app.example/callback",
            scope="patient/*.rs",
        )
        authorisation = Authorisation.objects.create(
            app=app,
            user=self.alice,
            member=self.alice_member,
            scope="patient/*.rs",
            approved_at=timezone.now(),
            code=grant,
        )
        token = AccessToken.objects.create(
            user=self.alice, application=app.application, token="t-1", expires=expires
        )
        AuthorisationToken.objects.create(access_token=token, authorisation=authorisation)
        RefreshToken.objects.create(
            user=self.alice, application=app.application, token="r-1", access_token=token
        )
        erasure = self.erase(self.alice, self.alice_member)
        self.assertFalse(AccessToken.objects.filter(user=self.alice).exists())
        self.assertFalse(RefreshToken.objects.filter(user=self.alice).exists())
        self.assertFalse(Grant.objects.filter(user=self.alice).exists())
        authorisation.refresh_from_db()
        self.assertIsNotNone(authorisation.revoked_at)
        self.assertEqual(authorisation.revoked_by, self.privacy_officer)
        self.assertIn("fhir.Authorisation (revoked)", erasure.erased_fields)
        self.assertTrue(any("Which apps you allowed" in item["what"] for item in erasure.kept))
