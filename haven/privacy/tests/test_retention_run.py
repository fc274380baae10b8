"""LOG-5: the nightly retention run erases what is past its time in every category, in batches,
on the periods the notice states; legal holds suspend erasure; every run is recorded."""

import io
import os
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from haven.accounts.models import User
from haven.accounts.services import account_close
from haven.mail.models import EmailStatus, OutgoingEmail
from haven.messaging.models import Conversation
from haven.privacy import facts, retention
from haven.privacy.models import (
    Archive,
    ConsentRecord,
    LegalHold,
    RetentionCategory,
    RetentionRun,
    RightsRequest,
    Subject,
)
from haven.privacy.tests.helpers import conversation_with, published_notice
from haven.security.models import WebRequest
from haven.testing.people import HavenTestCase

PERIODS = {
    "HAVEN_WEBLOG_RETENTION_DAYS": 30,
    "HAVEN_MESSAGE_RETENTION_DAYS": 365,
    "HAVEN_MAIL_KEEP_DAYS": 60,
    "HAVEN_CONSENT_RETENTION_DAYS": 400,
    "HAVEN_BACKUP_RETENTION_DAYS": 20,
    "HAVEN_CLOSED_ACCOUNT_RETENTION_DAYS": 2190,
}


def ago(days: int):
    return timezone.now() - timedelta(days=days)


class RetentionRunTests(HavenTestCase):
    def setUp(self):
        super().setUp()
        backups = tempfile.TemporaryDirectory()
        self.addCleanup(backups.cleanup)
        self.backups = Path(backups.name)
        for name, days in (("old.dump", 25), ("recent.dump", 5)):
            path = self.backups / name
            path.write_bytes(b"x")
            stamp = time.time() - days * 86400
            os.utime(path, (stamp, stamp))
        self.settings_override = override_settings(HAVEN_BACKUP_DIR=str(self.backups), **PERIODS)
        self.settings_override.enable()
        self.addCleanup(self.settings_override.disable)

    # Each category gets one row past its time and one within it, for Alice and for Elena.

    def web_request(self, days: int, path: str) -> WebRequest:
        return WebRequest.objects.create(
            at=ago(days),
            host="haven.example",
            address="192.0.2.7",
            browser="Firefox",
            operating_system="Linux",
            method="GET",
            path=path,
            status=200,
        )

    def closed_conversation(self, member, user, days: int) -> Conversation:
        conversation = conversation_with(member, user, ["hello"])
        Conversation.objects.filter(pk=conversation.pk).update(
            status=Conversation.Status.CLOSED, closed_at=ago(days)
        )
        return conversation

    def email(self, user, days: int, key: str) -> OutgoingEmail:
        email = OutgoingEmail.objects.create(
            idempotency_key=key,
            user=user,
            to_address=f"{user.username}@example.org",
            category="notification",
            reason="a secure message is waiting",
            subject="s",
            text_body="t",
            status=EmailStatus.SENT,
            sent_at=ago(days),
        )
        OutgoingEmail.objects.filter(pk=email.pk).update(created_at=ago(days))
        return email

    def consents(self, user) -> tuple[ConsentRecord, ConsentRecord]:
        def record(given, days):
            return ConsentRecord.objects.create(
                user=user,
                subject=Subject.ANALYTICS,
                given=given,
                version="analytics-test",
                wording="Count my visits",
                language="en",
                source="form",
                recorded_at=ago(days),
            )

        return record(True, 900), record(False, 500)

    def archive(self, user, hours: int) -> Archive:
        request = RightsRequest.objects.create(
            requester=user, kind="access", law="hipaa", due_on=timezone.localdate()
        )
        return Archive.objects.create(
            request=request,
            status=Archive.Status.READY,
            token_hash=f"hash-{request.pk}",
            content_sealed=b"sealed",
            expires_at=timezone.now() + timedelta(hours=hours),
        )

    def data_of(self, member, user, tag: str) -> dict:
        return {
            "old_conversation": self.closed_conversation(member, user, 400),
            "new_conversation": self.closed_conversation(member, user, 100),
            "old_email": self.email(user, 70, f"{tag}-old"),
            "new_email": self.email(user, 10, f"{tag}-new"),
            "consents": self.consents(user),
        }

    def assert_erased(self, data: dict) -> None:
        self.assertFalse(Conversation.objects.filter(pk=data["old_conversation"].pk).exists())
        self.assertTrue(Conversation.objects.filter(pk=data["new_conversation"].pk).exists())
        self.assertFalse(OutgoingEmail.objects.filter(pk=data["old_email"].pk).exists())
        self.assertTrue(OutgoingEmail.objects.filter(pk=data["new_email"].pk).exists())
        replaced, in_force = data["consents"]
        self.assertFalse(ConsentRecord.objects.filter(pk=replaced.pk).exists())
        self.assertTrue(ConsentRecord.objects.filter(pk=in_force.pk).exists())

    def assert_kept(self, data: dict) -> None:
        self.assertTrue(Conversation.objects.filter(pk=data["old_conversation"].pk).exists())
        self.assertTrue(OutgoingEmail.objects.filter(pk=data["old_email"].pk).exists())
        self.assertTrue(ConsentRecord.objects.filter(pk=data["consents"][0].pk).exists())

    def runs_of_last(self) -> dict[str, RetentionRun]:
        last = RetentionRun.objects.order_by("-pk").first().run
        return {entry.category: entry for entry in RetentionRun.objects.filter(run=last)}

    @pytest.mark.promise("LOG-5")
    def test_a_run_erases_what_is_past_its_time_in_every_category_and_records_it(self):
        old_line, new_line = self.web_request(31, "/old/"), self.web_request(29, "/new/")
        alice = self.data_of(self.alice_member, self.alice, "alice")
        expired = self.archive(self.alice, -1)
        current = self.archive(self.elena, 5)
        account_close(account=self.consumer, actor=self.consumer)
        User.objects.filter(pk=self.consumer.pk).update(closed_at=ago(2191))
        out = io.StringIO()
        with mock.patch("haven.privacy.retention.BATCH_SIZE", 1):
            call_command("privacy", "retention", stdout=out)

        self.assertFalse(WebRequest.objects.filter(pk=old_line.pk).exists())
        self.assertTrue(WebRequest.objects.filter(pk=new_line.pk).exists())
        self.assert_erased(alice)
        expired.refresh_from_db()
        current.refresh_from_db()
        self.assertEqual(expired.status, Archive.Status.EXPIRED)
        self.assertEqual(bytes(expired.content_sealed), b"")
        self.assertEqual(current.status, Archive.Status.READY)
        self.assertEqual(sorted(p.name for p in self.backups.iterdir()), ["recent.dump"])

        runs = self.runs_of_last()
        self.assertEqual(set(runs), set(RetentionCategory.values))
        erased = {category: entry.erased for category, entry in runs.items()}
        self.assertEqual(
            erased,
            {
                "web_logs": 1,
                "messages": 1,
                "portal": 0,
                "outbox": 1,
                "consents": 1,
                "exports": 1,
                "backups": 1,
                "closed_accounts": 1,
            },
        )
        self.assertTrue(all(entry.error == "" for entry in runs.values()))
        self.assertTrue(all(entry.finished_at >= entry.started_at for entry in runs.values()))
        self.assertIn("messages: erased 1, held 0 (365 days)", out.getvalue())
        # Runs are append-only.
        with self.assertRaises(ValidationError):
            runs["messages"].save()
        with self.assertRaises(ValidationError):
            runs["messages"].delete()

        # The next run finds nothing more and is recorded as a run of its own.
        retention.run()
        self.assertEqual(RetentionRun.objects.values("run").distinct().count(), 2)
        self.assertEqual(sum(entry.erased for entry in self.runs_of_last().values()), 0)

    @pytest.mark.promise("LOG-5")
    def test_a_hold_keeps_a_members_data_through_a_run_and_lifting_it_lets_the_next_erase(self):
        alice = self.data_of(self.alice_member, self.alice, "alice")
        elena = self.data_of(self.elena_member, self.elena, "elena")
        # A conversation's own hold (messaging's flag) still keeps it, whoever it belongs to.
        flagged = self.closed_conversation(self.alice_member, self.alice, 800)
        Conversation.objects.filter(pk=flagged.pk).update(legal_hold=True)
        hold = retention.hold_place(
            actor=self.privacy_officer, member=self.elena_member, reason="Litigation 2026-14"
        )

        retention.run()
        self.assert_erased(alice)
        self.assert_kept(elena)
        self.assertTrue(Conversation.objects.filter(pk=flagged.pk).exists())
        runs = self.runs_of_last()
        self.assertEqual((runs["messages"].erased, runs["messages"].held), (1, 2))
        self.assertEqual((runs["outbox"].erased, runs["outbox"].held), (1, 1))
        self.assertEqual((runs["consents"].erased, runs["consents"].held), (1, 1))

        retention.hold_lift(hold=hold, actor=self.privacy_officer)
        retention.run()
        self.assert_erased(elena)
        self.assertTrue(Conversation.objects.filter(pk=flagged.pk).exists())
        runs = self.runs_of_last()
        self.assertEqual((runs["messages"].erased, runs["messages"].held), (1, 1))
        self.assertEqual(runs["outbox"].held + runs["consents"].held, 0)

    @pytest.mark.promise("LOG-5")
    def test_a_hold_on_some_categories_or_an_account_keeps_only_those(self):
        elena = self.data_of(self.elena_member, self.elena, "elena")
        retention.hold_place(
            actor=self.staff["compliance"],
            account=self.elena,
            categories=[RetentionCategory.OUTBOX],
            reason="Regulator's inquiry",
        )
        retention.run()
        self.assertFalse(Conversation.objects.filter(pk=elena["old_conversation"].pk).exists())
        self.assertTrue(OutgoingEmail.objects.filter(pk=elena["old_email"].pk).exists())
        self.assertFalse(ConsentRecord.objects.filter(pk=elena["consents"][0].pk).exists())

    def test_only_the_privacy_officer_or_compliance_place_and_lift_holds(self):
        for actor in (self.nurse, self.representative, self.administrator, self.alice):
            with self.assertRaises(PermissionDenied):
                retention.hold_place(actor=actor, member=self.alice_member, reason="x")
        hold = retention.hold_place(
            actor=self.privacy_officer, member=self.alice_member, reason="Subpoena"
        )
        with self.assertRaises(PermissionDenied):
            retention.hold_lift(hold=hold, actor=self.nurse)
        with self.assertRaises(ValidationError):
            retention.hold_place(actor=self.privacy_officer, member=self.alice_member, reason=" ")
        with self.assertRaises(ValidationError):
            retention.hold_place(actor=self.privacy_officer, reason="Nobody named")
        with self.assertRaises(ValidationError):
            retention.hold_place(
                actor=self.privacy_officer,
                member=self.alice_member,
                reason="x",
                categories=["everything"],
            )
        lifted = retention.hold_lift(hold=hold, actor=self.privacy_officer)
        self.assertIsNotNone(lifted.lifted_at)
        self.assertEqual(lifted.lifted_by, self.privacy_officer)
        self.assertFalse(LegalHold.objects.filter(lifted_at__isnull=True).exists())

    @pytest.mark.promise("LOG-5")
    def test_a_failing_category_is_recorded_and_the_others_still_run(self):
        old_line = self.web_request(31, "/old/")
        alice = self.data_of(self.alice_member, self.alice, "alice")
        with (
            mock.patch(
                "haven.messaging.services.messages_purge", side_effect=RuntimeError("disk full")
            ),
            self.assertRaises(CommandError) as failure,
        ):
            call_command("privacy", "retention", stdout=io.StringIO())
        self.assertIn("messages", str(failure.exception))
        runs = self.runs_of_last()
        self.assertEqual(set(runs), set(RetentionCategory.values))
        self.assertEqual(runs["messages"].error, "RuntimeError: disk full")
        self.assertEqual(runs["messages"].erased, 0)
        self.assertTrue(Conversation.objects.filter(pk=alice["old_conversation"].pk).exists())
        # The categories after it ran.
        self.assertFalse(WebRequest.objects.filter(pk=old_line.pk).exists())
        self.assertFalse(OutgoingEmail.objects.filter(pk=alice["old_email"].pk).exists())
        self.assertEqual(runs["backups"].erased, 1)
        self.assertEqual([c for c, r in runs.items() if r.error], ["messages"])

    @pytest.mark.promise("LOG-5")
    def test_the_notice_states_the_periods_the_run_uses(self):
        published_notice(self.privacy_officer)
        runs = retention.run()
        stated = {item.category: item for item in facts.retention_periods() if item.category}
        # Every category the notice states is erased by the run, on the period it states.
        run_days = {entry.category: entry.period_days for entry in runs}
        for category, item in stated.items():
            self.assertEqual(run_days[category], item.days, category)
            self.assertEqual(item.job, "haven privacy retention")
        self.assertEqual(run_days["messages"], 365)
        self.assertEqual(run_days["web_logs"], 30)
        self.assertEqual(run_days["closed_accounts"], 2190)
        page = self.client.get(reverse("privacy:notice_current"))
        for item in stated.values():
            self.assertContains(page, f"<td>{item.what}</td><td>{item.described}</td>")
        self.assertContains(page, "after the conversation is closed</td><td>1 year</td>")
        self.assertContains(page, "<td>60 days</td>")
        self.assertContains(page, "after it was closed; then it is erased</td><td>6 years</td>")


@override_settings(HAVEN_MESSAGE_RETENTION_DAYS=365)
class RetentionTaskTests(HavenTestCase):
    @pytest.mark.promise("LOG-5")
    def test_the_nightly_task_runs_every_category_and_returns_what_it_erased(self):
        from haven.privacy.tasks import retention_run

        conversation_with(self.alice_member, self.alice, ["old"])
        Conversation.objects.update(status=Conversation.Status.CLOSED, closed_at=ago(400))
        with override_settings(HAVEN_BACKUP_DIR=tempfile.gettempdir() + "/haven-no-such-dir"):
            erased = retention_run.call()
        self.assertEqual(erased, 1)
        self.assertFalse(Conversation.objects.exists())
        runs = {entry.category: entry for entry in RetentionRun.objects.all()}
        self.assertEqual(set(runs), set(RetentionCategory.values))
        self.assertIn("FileNotFoundError", runs["backups"].error)


class LegalHoldPageTests(HavenTestCase):
    @pytest.mark.promise("LOG-5")
    def test_the_privacy_officer_places_and_lifts_a_hold_on_the_staff_page(self):
        self.sign_in(self.privacy_officer)
        url = reverse("privacy:staff_holds")
        response = self.client.post(
            url,
            {"member_number": "M-NOBODY", "reason": "Litigation"},
        )
        self.assertContains(response, "No member has this number.")
        self.assertFalse(LegalHold.objects.exists())
        response = self.client.post(
            url,
            {
                "member_number": self.elena_member.member_id,
                "categories": [RetentionCategory.MESSAGES],
                "reason": "Litigation 2026-14",
            },
        )
        self.assertRedirects(response, url)
        hold = LegalHold.objects.get()
        self.assertEqual(
            (hold.member, hold.categories, hold.placed_by),
            (self.elena_member, ["messages"], self.privacy_officer),
        )
        retention.run()
        page = self.client.get(url)
        self.assertContains(page, "Litigation 2026-14")
        self.assertContains(page, self.elena_member.member_id)
        self.assertNotContains(page, "Moretti")  # the member number, not the name
        self.assertContains(page, "Lift the hold")
        self.assertContains(page, "<td>Secure messages</td>")
        self.client.post(url, {"lift": hold.pk})
        hold.refresh_from_db()
        self.assertEqual(hold.lifted_by, self.privacy_officer)
        self.assertNotContains(self.client.get(url), "Lift the hold")

        self.client.post(url, {"reason": "No one"})
        self.assertEqual(LegalHold.objects.count(), 1)


class HoldInWhatRemainsTests(HavenTestCase):
    @pytest.mark.promise("LOG-5")
    def test_a_member_asking_for_deletion_is_told_a_hold_keeps_their_messages(self):
        from haven.privacy import services

        conversation_with(self.alice_member, self.alice, ["hello"])
        request = RightsRequest.objects.create(
            requester=self.alice,
            member=self.alice_member,
            kind="deletion",
            law="hipaa",
            due_on=timezone.localdate(),
        )

        def held_messages():
            return [
                item["until"]
                for item in services.what_remains(request.requester, request.member)
                if item["what"] == "Secure messages under a legal hold"
            ]

        self.assertEqual(held_messages(), [])
        hold = retention.hold_place(
            actor=self.privacy_officer, account=self.alice, reason="Litigation"
        )
        self.assertEqual(held_messages(), ["until the hold is lifted"])
        retention.hold_lift(hold=hold, actor=self.privacy_officer)
        self.assertEqual(held_messages(), [])
