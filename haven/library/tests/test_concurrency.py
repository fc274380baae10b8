"""Two senders at once (cron overlapping the task worker) deliver each reminder once (PLAN-5)."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import TransactionTestCase
from django.utils import timezone

from haven.accounts.models import User
from haven.library import demo, services
from haven.library.models import Delivery, Frequency, Programme
from haven.mail.models import OutgoingEmail
from haven.plans.models import EmployerGroup, Plan
from haven.privacy.models import Channel
from haven.testing.people import make_member, make_user, years_ago


@pytest.mark.postgres
class OverlappingSendersTests(TransactionTestCase):
    MEMBERS = 6
    SENDERS = 4

    def setUp(self):
        demo.load()
        plan = Plan.objects.create(code="P", name="P", carrier="C", year=2026)
        group = EmployerGroup.objects.create(group_number="G", name="G", plan=plan)
        programme = Programme.objects.get(slug=demo.PROGRAMME_SLUG)
        for n in range(self.MEMBERS):
            user = make_user(
                f"member{n}",
                User.Kind.MEMBER,
                member=make_member(f"M-{n}", group, "Member", f"Number{n}", years_ago(30 + n)),
                email=f"member{n}@example.org",
            )
            services.enrol(
                user=user,
                programme=programme,
                reminders=Frequency.DAILY,
                questionnaires=Frequency.WEEKLY,
                channels=[Channel.EMAIL],
                now=timezone.now() - timedelta(days=8),
            )

    @pytest.mark.promise("PLAN-5")
    def test_overlapping_senders_deliver_and_email_each_once(self):
        start = threading.Barrier(self.SENDERS)
        errors = []

        def send():
            try:
                start.wait()
                services.send_due()
            except Exception as error:  # reported to the main thread below
                errors.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=send) for _ in range(self.SENDERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(errors, [])
        self.assertEqual(Delivery.objects.count(), 2 * self.MEMBERS)
        self.assertEqual(OutgoingEmail.objects.count(), 2 * self.MEMBERS)
