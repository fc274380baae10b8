"""NOT-1..NOT-6: the notice viewed, printed, downloaded and posted; versions named by revision
date with an effective date; material changes posted ahead; members told and asked to
acknowledge; three languages; facts rendered from Haven's configuration."""

import io
import os
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail as django_mail
from django.core.exceptions import ValidationError
from django.core.management import call_command, get_commands, load_command_class
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from haven.mail.models import OutgoingEmail
from haven.messaging import services as messaging_services
from haven.privacy import facts, retention, services
from haven.privacy.models import (
    Channel,
    ConsentRecord,
    Kind,
    Notice,
    NoticeReceipt,
    NoticeServed,
    PrintedCopyRequest,
    RecipientCategory,
    Subject,
)
from haven.privacy.tests.helpers import notice_texts, published_notice, recipient, run_worker
from haven.testing.people import HavenTestCase


def url_of(notice, name="privacy:notice_version"):
    return reverse(name, kwargs={"revision": notice.revision_date.isoformat()})


class NoticeViewingTests(HavenTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.notice = published_notice(cls.privacy_officer)

    @pytest.mark.promise("NOT-1")
    @pytest.mark.promise("NOT-2")
    def test_anyone_reads_the_notice_with_its_revision_and_effective_dates(self):
        page = self.client.get(reverse("privacy:notice_current"))
        self.assertContains(page, "Notice of privacy practices")
        self.assertContains(page, f"Revised {date_format(self.notice.revision_date)}<")
        self.assertContains(page, "<h2>Our commitment</h2>")
        self.assertContains(page, "Effective")
        self.assertContains(page, "data-print")
        self.assertContains(page, 'media="print" href="/static/privacy/notice-print.css"')
        self.assertContains(page, url_of(self.notice, "privacy:notice_pdf"))

    @pytest.mark.promise("NOT-1")
    def test_the_notice_downloads_as_a_pdf(self):
        response = self.client.get(url_of(self.notice, "privacy:notice_pdf"))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "application/pdf")
        self.assertTrue(response.content.startswith(b"%PDF-"))
        self.assertIn("attachment;", response["Content-Disposition"])
        self.assertGreater(len(response.content), 5000)

    @pytest.mark.promise("NOT-1")
    def test_a_member_asks_for_a_printed_copy_and_staff_post_it(self):
        self.sign_in(self.alice)
        form = self.client.get(reverse("privacy:printed_copy"))
        self.assertContains(form, "Hartford")
        self.client.post(
            reverse("privacy:printed_copy"),
            {"address": "Alice Rivera\n1 Oak St\nHartford CT 06103", "language": "es"},
        )
        copy = PrintedCopyRequest.objects.get()
        self.assertEqual((copy.notice, copy.language), (self.notice, "es"))
        representative = self.sign_in(self.representative, self.client_class())
        queue = representative.get(reverse("privacy:staff_printed_copies"))
        self.assertContains(queue, "1 Oak St")
        representative.post(reverse("privacy:staff_printed_copies"), {"copy": copy.pk})
        copy.refresh_from_db()
        self.assertEqual(copy.mailed_by, self.representative)
        self.assertContains(self.client.get(reverse("privacy:printed_copy")), "Posted on")

    @pytest.mark.promise("NOT-5")
    def test_the_notice_and_its_frame_read_in_spanish_and_italian(self):
        spanish = self.client.get(reverse("privacy:notice_current"), HTTP_ACCEPT_LANGUAGE="es")
        self.assertContains(spanish, "Aviso de prácticas de privacidad")
        self.assertContains(spanish, "Cuánto tiempo conservamos su información")
        self.assertContains(spanish, 'lang="es"')
        italian = self.client.get(reverse("privacy:notice_current"), HTTP_ACCEPT_LANGUAGE="it")
        self.assertContains(italian, "Informativa sulle pratiche di privacy")
        self.assertContains(italian, "Per quanto tempo conserviamo le sue informazioni")
        pdf = self.client.get(url_of(self.notice, "privacy:notice_pdf"), HTTP_ACCEPT_LANGUAGE="it")
        self.assertIn("-it.pdf", pdf["Content-Disposition"])

    @pytest.mark.promise("NOT-2")
    def test_each_version_served_to_a_member_is_recorded(self):
        self.sign_in(self.alice)
        self.client.get(reverse("privacy:notice_current"), HTTP_ACCEPT_LANGUAGE="es")
        self.client.get(url_of(self.notice, "privacy:notice_pdf"))
        served = list(NoticeServed.objects.filter(user=self.alice).order_by("pk"))
        self.assertEqual(
            [(s.notice, s.form, s.language) for s in served],
            [(self.notice, "page", "es"), (self.notice, "pdf", "en")],
        )

    @pytest.mark.promise("NOT-6")
    def test_the_notice_states_retention_periods_from_the_settings_the_purge_reads(self):
        with override_settings(HAVEN_MESSAGE_RETENTION_DAYS=3 * 365):
            self.assertEqual(messaging_services.retention_days(), facts.message_retention_days())
            page = self.client.get(reverse("privacy:notice_current"))
            self.assertContains(page, "<td>3 years</td>", html=False)
        with override_settings(HAVEN_MESSAGE_RETENTION_DAYS=90):
            self.assertEqual(messaging_services.retention_days(), 90)
            page = self.client.get(reverse("privacy:notice_current"))
            self.assertContains(page, "<td>90 days</td>")
            self.assertNotContains(page, "<td>3 years</td>")

    def consent(self, given: bool, days_ago: int, user=None) -> ConsentRecord:
        return ConsentRecord.objects.create(
            user=user or self.alice,
            subject=Subject.ANALYTICS,
            given=given,
            version="analytics-test",
            wording="Count my visits",
            language="en",
            source="form",
            recorded_at=timezone.now() - timedelta(days=days_ago),
        )

    @pytest.mark.promise("NOT-6")
    def test_the_consent_and_backup_purges_follow_the_periods_the_notice_states(self):
        # Alice: yes 900 days ago, replaced by a no 500 days ago, replaced by a yes 100 days ago.
        oldest, middle, current = self.consent(True, 900), self.consent(False, 500), None
        current = self.consent(True, 100)
        # Bruno's only choice is old but in force: it is never deleted.
        in_force = self.consent(True, 2000, user=self.bruno)
        backups = Path(self.enterContext(tempfile.TemporaryDirectory()))
        for name, days_old in (("old.dump", 40), ("recent.dump", 20)):
            (backups / name).write_bytes(b"encrypted")
            moment = time.time() - days_old * 86400
            os.utime(backups / name, (moment, moment))

        with override_settings(
            HAVEN_CONSENT_RETENTION_DAYS=450,
            HAVEN_BACKUP_RETENTION_DAYS=30,
            HAVEN_BACKUP_DIR=str(backups),
        ):
            page = self.client.get(reverse("privacy:notice_current"))
            self.assertContains(
                page,
                "<td>Your consents and their withdrawals, after a later choice replaces them</td>"
                "<td>450 days</td>",
            )
            self.assertContains(page, "<td>Encrypted backups</td><td>30 days</td>")
            out = io.StringIO()
            call_command("privacy", "purge", stdout=out)
            self.assertIn("deleted 1 consent records past 450 days", out.getvalue())
            call_command("privacy", "backups", stdout=io.StringIO())
        left = set(ConsentRecord.objects.values_list("pk", flat=True))
        self.assertEqual(left, {middle.pk, current.pk, in_force.pk})
        self.assertNotIn(oldest.pk, left)
        self.assertEqual(sorted(p.name for p in backups.iterdir()), ["recent.dump"])

        with override_settings(
            HAVEN_CONSENT_RETENTION_DAYS=90,
            HAVEN_BACKUP_RETENTION_DAYS=10,
            HAVEN_BACKUP_DIR=str(backups),
        ):
            page = self.client.get(reverse("privacy:notice_current"))
            self.assertContains(page, "<td>90 days</td>")
            self.assertContains(page, "<td>Encrypted backups</td><td>10 days</td>")
            self.assertEqual(retention.consents_purge(), 1)
            self.assertEqual(retention.backups_prune(), ["recent.dump"])
        left = set(ConsentRecord.objects.values_list("pk", flat=True))
        self.assertEqual(left, {current.pk, in_force.pk})

    @pytest.mark.promise("NOT-6")
    def test_the_audit_trail_is_stated_as_a_minimum_it_is_never_deleted(self):
        with override_settings(HAVEN_AUDIT_RETENTION_DAYS=10 * 365):
            page = self.client.get(reverse("privacy:notice_current"))
        self.assertContains(
            page, "it can only be added to</td><td>at least 10 years, never deleted"
        )
        jobs = {item.setting: item.job for item in facts.retention_periods()}
        self.assertEqual(jobs.pop("HAVEN_AUDIT_RETENTION_DAYS"), "")
        # Every other period names the job that enforces it, and that job exists.
        self.assertTrue(all(jobs.values()))
        self.assertEqual(jobs["HAVEN_WEBLOG_RETENTION_DAYS"], "haven privacy retention")
        commands = get_commands()
        for job in jobs.values():
            _haven, name, action = job.split()
            command = load_command_class(commands[name], name)
            command.create_parser("haven", name).parse_args([action])

    @pytest.mark.promise("NOT-6")
    def test_the_database_lets_only_the_purge_delete_a_consent_record(self):
        from django.db import DatabaseError, connection, transaction

        replaced = self.consent(True, 900)
        self.consent(False, 800)
        if connection.vendor != "postgresql":
            with self.assertRaises(ValidationError):
                replaced.delete()
            return
        with self.assertRaises(DatabaseError), transaction.atomic():
            ConsentRecord.objects.filter(pk=replaced.pk).delete()
        with self.assertRaises(DatabaseError), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('haven.consent_purge_before', %s, true)",
                    [timezone.now().isoformat()],
                )
            ConsentRecord.objects.filter(pk=replaced.pk).update(given=False)
        with override_settings(HAVEN_CONSENT_RETENTION_DAYS=30):
            self.assertEqual(retention.consents_purge(), 1)

    @pytest.mark.promise("NOT-6")
    def test_the_notice_lists_recipient_kinds_and_countries_from_the_registry(self):
        page = self.client.get(reverse("privacy:notice_current"))
        self.assertContains(page, "No one outside Haven receives")
        recipient(
            self.privacy_officer, "Haven BV", category=RecipientCategory.AFFILIATE, country="BE"
        )
        page = self.client.get(reverse("privacy:notice_current"))
        self.assertContains(page, "<td>Affiliate of the plan</td><td>BE</td>", html=False)
        self.assertContains(page, "We never sell or rent your personal information.")
        self.assertContains(page, facts.privacy_officer()["email"])

    @pytest.mark.promise("NOT-6")
    @override_settings(
        HAVEN_PRIVACY_OFFICER={"email": "dpo@plan.example", "phone": "+32 3 555 0100"}
    )
    def test_the_notice_gives_the_configured_privacy_officer(self):
        page = self.client.get(reverse("privacy:notice_current"))
        self.assertContains(page, "dpo@plan.example")
        self.assertContains(page, "+32 3 555 0100")


class NoticePublishingTests(HavenTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.current = published_notice(cls.privacy_officer)

    def draft(self, *, effective_in: int, material: bool = True) -> Notice:
        today = timezone.localdate()
        return services.notice_draft_save(
            notice=None,
            revision_date=today,
            effective_date=today + timedelta(days=effective_in),
            material=material,
            texts=notice_texts(" (2)"),
            actor=self.privacy_officer,
        )

    @pytest.mark.promise("NOT-3")
    def test_a_material_change_is_published_only_ahead_of_its_effective_date(self):
        notice = self.draft(effective_in=10)
        with self.assertRaises(ValidationError):
            services.notice_publish(notice=notice, actor=self.privacy_officer)
        notice.effective_date = timezone.localdate() + timedelta(days=facts.notice_period_days())
        notice.save()
        services.notice_publish(notice=notice, actor=self.privacy_officer)
        self.assertEqual(services.notice_current(), self.current)
        self.assertEqual(services.notice_upcoming(), notice)
        page = self.client.get(reverse("privacy:notice_current"))
        self.assertContains(page, "A new version of this notice takes effect on")

    @pytest.mark.promise("NOT-3")
    @override_settings(HAVEN_NOTICE_PERIOD_DAYS=45)
    def test_the_notice_period_is_configurable(self):
        notice = self.draft(effective_in=30)
        self.assertTrue(services.notice_publication_problems(notice))
        notice.effective_date = timezone.localdate() + timedelta(days=45)
        self.assertEqual(services.notice_publication_problems(notice), [])

    @pytest.mark.promise("NOT-5")
    def test_a_version_is_published_only_with_english_spanish_and_italian_texts(self):
        notice = self.draft(effective_in=30)
        notice.texts.filter(language="it").delete()
        problems = services.notice_publication_problems(notice)
        self.assertTrue(any("Italian" in str(problem) for problem in problems))

    @pytest.mark.promise("NOT-2")
    def test_versions_are_named_by_revision_date_which_is_unique(self):
        with self.assertRaises(ValidationError):
            services.notice_draft_save(
                notice=None,
                revision_date=self.current.revision_date,
                effective_date=self.current.revision_date,
                material=False,
                texts=notice_texts(),
                actor=self.privacy_officer,
            )
        self.assertEqual(
            url_of(self.current), f"/privacy/notice/{self.current.revision_date.isoformat()}/"
        )

    @pytest.mark.promise("NOT-4")
    def test_members_are_told_by_email_or_in_the_portal_per_their_preferences_and_acknowledge(self):
        services.contact_preferences_update(
            user=self.bruno, choices={(Channel.EMAIL, Kind.PLAN_NOTICES): False}, actor=self.bruno
        )
        notice = self.draft(effective_in=30)
        self.sign_in(self.privacy_officer)
        self.client.post(
            reverse("privacy:staff_notice", kwargs={"pk": notice.pk}), {"action": "publish"}
        )
        run_worker()
        alice_receipt = NoticeReceipt.objects.get(user=self.alice, notice=notice)
        self.assertEqual(alice_receipt.how, "email")
        email = OutgoingEmail.objects.get(user=self.alice, category="required_notice")
        self.assertIn(url_of(notice), email.text_body)
        self.assertEqual(NoticeReceipt.objects.get(user=self.bruno, notice=notice).how, "portal")
        self.assertFalse(NoticeReceipt.objects.filter(user__kind="staff").exists())
        self.assertEqual(notice.campaigns.get().done, notice.campaigns.get().total)

        member = self.client_class()
        self.sign_in(self.bruno, member)
        page = member.get(reverse("privacy:center"))
        self.assertContains(page, "Our privacy notice has changed", count=1)
        member.post(reverse("privacy:notice_acknowledge", kwargs={"pk": notice.pk}))
        self.assertIsNotNone(
            NoticeReceipt.objects.get(user=self.bruno, notice=notice).acknowledged_at
        )
        self.assertNotContains(
            member.get(reverse("privacy:center")), "Our privacy notice has changed"
        )

    @pytest.mark.promise("NOT-4")
    def test_the_banner_speaks_the_members_language(self):
        notice = self.draft(effective_in=30)
        services.notice_publish(notice=notice, actor=self.privacy_officer)
        run_worker()
        self.sign_in(self.bruno)
        page = self.client.get(reverse("privacy:center"), HTTP_ACCEPT_LANGUAGE="es")
        self.assertContains(page, "Nuestro aviso de privacidad ha cambiado")

    @pytest.mark.promise("NOT-4")
    def test_the_periodic_job_reaches_anyone_missed_and_reminds_every_three_years(self):
        notice = self.draft(effective_in=30)
        services.notice_publish(notice=notice, actor=self.privacy_officer)
        run_worker()
        told = set(NoticeReceipt.objects.filter(notice=notice).values_list("user", flat=True))
        self.assertIn(self.alice.pk, told)
        NoticeReceipt.objects.filter(user=self.oscar).delete()
        call_command("privacy", "notices", stdout=open("/dev/null", "w"))
        run_worker()
        self.assertTrue(NoticeReceipt.objects.filter(user=self.oscar, notice=notice).exists())

        later = timezone.now() + timedelta(days=3 * 365 + 40)
        counts = services.notices_remind(now=later)
        run_worker()
        self.assertGreaterEqual(counts["reminded"], 1)
        self.assertTrue(NoticeReceipt.objects.filter(user=self.alice, reason="reminder").exists())
        self.assertEqual(len(django_mail.outbox), 0)


class DemoNoticeTests(HavenTestCase):
    @pytest.mark.promise("NOT-5")
    def test_the_demo_notice_is_published_in_english_spanish_and_italian_with_a_registry(self):
        from haven.privacy import demo

        demo.load()
        demo.load()
        notice = Notice.objects.get(revision_date=demo.REVISION)
        self.assertEqual(
            sorted(notice.texts.values_list("language", flat=True)), ["en", "es", "it"]
        )
        self.assertTrue(notice.is_published)
        self.assertEqual(services.notice_current(), notice)
        self.assertTrue(any(item["countries"] == ["BE"] for item in facts.recipient_categories()))
