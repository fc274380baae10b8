"""LOG-5: closed accounts are erased by the nightly run once closed longer than the notice's
period, exactly as a deletion request erases them; legal holds suspend erasure, at a request too."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from haven.accounts.models import ConsumerProfile, User
from haven.accounts.services import account_close
from haven.audit.tests.training import train_all_staff
from haven.privacy import retention, services
from haven.privacy.models import Erasure, RequestStatus, RetentionRun
from haven.testing.people import HavenTestCase


def closed_days_ago(user: User, days: int, actor: User | None = None) -> None:
    account_close(account=user, actor=actor or user, reason="" if actor is None else "x" * 12)
    User.objects.filter(pk=user.pk).update(closed_at=timezone.now() - timedelta(days=days))


@override_settings(HAVEN_CLOSED_ACCOUNT_RETENTION_DAYS=100)
class ClosedAccountRetentionTests(HavenTestCase):
    def closed_accounts_run(self) -> RetentionRun:
        return next(run for run in retention.run(only=["closed_accounts"]))

    @pytest.mark.promise("LOG-5")
    def test_the_run_erases_only_accounts_closed_longer_than_the_period_and_keeps_held_ones(self):
        ConsumerProfile.objects.create(
            user=self.consumer,
            address_line="9 Elm St",
            city="Hartford",
            postal_code="06103",
            insurance_carrier="Acme",
            insurance_plan="Silver",
        )
        closed_days_ago(self.alice, 101)
        closed_days_ago(self.consumer, 150, actor=self.representative)
        closed_days_ago(self.maria, 99)
        closed_days_ago(self.elena, 400)
        hold = retention.hold_place(
            actor=self.privacy_officer,
            member=self.elena_member,
            categories=["outbox"],
            reason="Litigation 2026-14",
        )

        with mock.patch("haven.privacy.retention.BATCH_SIZE", 1):
            run = self.closed_accounts_run()
        self.assertEqual((run.erased, run.held, run.period_days, run.error), (2, 1, 100, ""))

        for erased in (self.alice, self.consumer):
            account = User.objects.get(pk=erased.pk)
            self.assertEqual(account.username, f"erased-{account.pk}")
            self.assertEqual((account.email, account.first_name), ("", ""))
            self.assertFalse(account.has_usable_password())
            erasure = Erasure.objects.get(account=account)
            self.assertEqual(erasure.cause, Erasure.Cause.CLOSED_ACCOUNT)
            self.assertIsNone(erasure.request)
            self.assertIsNone(erasure.erased_by)
            self.assertIn("accounts.User.username", erasure.erased_fields)
            self.assertTrue(any("backups" in item["what"] for item in erasure.kept))
        consumer_erasure = Erasure.objects.get(account=self.consumer)
        self.assertIn("accounts.User.closed_reason", consumer_erasure.erased_fields)
        self.assertIn("accounts.ConsumerProfile.address_line", consumer_erasure.erased_fields)
        self.assertFalse(ConsumerProfile.objects.filter(user=self.consumer).exists())
        # Within the period, or under a hold in any category: kept as they were.
        for kept in (self.maria, self.elena):
            self.assertEqual(User.objects.get(pk=kept.pk).username, kept.username)
            self.assertFalse(Erasure.objects.filter(account=kept).exists())

        retention.hold_lift(hold=hold, actor=self.privacy_officer)
        run = self.closed_accounts_run()
        self.assertEqual((run.erased, run.held), (1, 0))
        self.assertTrue(Erasure.objects.filter(account=self.elena).exists())
        # Erased accounts are not erased again; the run is recorded all the same.
        run = self.closed_accounts_run()
        self.assertEqual((run.erased, run.held), (0, 0))
        self.assertEqual(RetentionRun.objects.filter(category="closed_accounts").count(), 3)

    def test_an_account_open_again_or_closed_since_is_not_erased(self):
        closed_days_ago(self.alice, 101)
        cutoff = timezone.now() - timedelta(days=100)
        User.objects.filter(pk=self.alice.pk).update(closed_at=timezone.now())
        self.assertIsNone(services.closed_account_erase(account=self.alice, cutoff=cutoff))
        self.assertFalse(Erasure.objects.exists())


class DeletionUnderLegalHoldTests(HavenTestCase):
    def deletion_request(self):
        return services.rights_request_create(
            kind="deletion", requester=self.alice, member=self.alice_member, identity="password"
        )

    @pytest.mark.promise("LOG-5")
    def test_a_deletion_request_waits_while_a_legal_hold_covers_the_person(self):
        made = self.deletion_request()
        hold = retention.hold_place(
            actor=self.staff["compliance"], account=self.alice, reason="Subpoena 2026-88 (fraud)"
        )

        with self.assertRaises(ValidationError) as refused:
            services.account_erase(request=made, actor=self.privacy_officer)
        self.assertEqual(refused.exception.code, "held")
        self.assertIn("Subpoena 2026-88 (fraud)", refused.exception.messages[0])
        made.refresh_from_db()
        self.assertEqual(made.status, RequestStatus.IN_PROGRESS)
        self.assertEqual(User.objects.get(pk=self.alice.pk).username, "alice")
        self.assertFalse(Erasure.objects.exists())

        train_all_staff(self)
        officer = self.sign_in(self.privacy_officer, self.client_class())
        url = reverse("privacy:staff_request", kwargs={"pk": made.pk})
        page = officer.get(url)
        self.assertContains(page, "A legal hold covers this person")
        self.assertContains(page, "Subpoena 2026-88 (fraud)")
        self.assertNotContains(page, 'value="erase"')
        posted = officer.post(url, {"action": "erase", "erase-confirm": "on"}, follow=True)
        self.assertContains(posted, "cannot be erased while it stands")
        self.assertEqual(User.objects.get(pk=self.alice.pk).username, "alice")

        member_page = self.sign_in(self.alice).get(
            reverse("privacy:request_detail", kwargs={"pk": made.pk})
        )
        self.assertContains(member_page, "The law requires us to keep your data for now")
        self.assertNotContains(member_page, "Subpoena")
        self.assertNotContains(member_page, "fraud")

        retention.hold_lift(hold=hold, actor=self.staff["compliance"])
        self.assertNotContains(
            self.client.get(reverse("privacy:request_detail", kwargs={"pk": made.pk})),
            "The law requires us to keep your data for now",
        )
        erasure = services.account_erase(request=made, actor=self.privacy_officer)
        self.assertEqual(
            (erasure.account_id, erasure.cause, erasure.erased_by),
            (self.alice.pk, Erasure.Cause.REQUEST, self.privacy_officer),
        )
        made.refresh_from_db()
        self.assertEqual(made.status, RequestStatus.COMPLETED)
        alice = User.objects.get(pk=self.alice.pk)
        self.assertEqual(alice.username, f"erased-{alice.pk}")
        self.assertIsNotNone(alice.closed_at)

    def test_a_hold_on_the_member_covers_their_account_in_any_category(self):
        made = self.deletion_request()
        retention.hold_place(
            actor=self.privacy_officer,
            member=self.alice_member,
            categories=["messages"],
            reason="Complaint to the regulator",
        )
        with self.assertRaises(ValidationError):
            services.account_erase(request=made, actor=self.privacy_officer)
        self.assertEqual(
            list(retention.holds_covering(account=self.alice).values_list("reason", flat=True)),
            ["Complaint to the regulator"],
        )
        self.assertFalse(retention.holds_covering(account=self.bruno).exists())
