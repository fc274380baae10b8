"""RIG-6: the breach register: affected members chosen from the audit trail or a list, notified
by their channels and in the portal, with the legal deadline tracked."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from haven.audit import access
from haven.audit.policy import Resource
from haven.audit.tests.training import train_all_staff
from haven.mail.models import OutgoingEmail
from haven.privacy import facts, services
from haven.privacy.models import AffectedMember, Channel, Incident, Kind
from haven.privacy.tests.helpers import run_worker
from haven.testing.people import HavenTestCase


class IncidentTests(HavenTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        train_all_staff(cls)

    def record(self, client) -> Incident:
        now = timezone.localtime()
        client.post(
            reverse("privacy:staff_incidents"),
            {
                "title": "Laptop stolen",
                "description": "A representative's laptop was stolen from a car.",
                "member_message": "A laptop that could show your name and address was stolen.",
                "discovered_at": (now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
                "occurred_from": (now - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
                "occurred_to": (now - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
            },
        )
        return Incident.objects.get()

    @pytest.mark.promise("RIG-6")
    def test_the_officer_selects_everyone_a_staff_account_opened_and_they_are_notified(self):
        for member in (self.alice_member, self.bruno_member):
            access.read(
                member=member,
                resource=Resource.CONTACT,
                purpose="payment",
                actor=self.representative,
            )
        services.contact_preferences_update(
            user=self.bruno, choices={(Channel.EMAIL, Kind.PLAN_NOTICES): False}, actor=self.bruno
        )
        officer = self.sign_in(self.privacy_officer, self.client_class())
        incident = self.record(officer)
        self.assertEqual(
            incident.notify_by,
            timezone.localdate(incident.discovered_at) + timedelta(days=facts.breach_notice_days()),
        )
        start = timezone.localtime() - timedelta(days=3)
        officer.post(
            reverse("privacy:staff_incident", kwargs={"pk": incident.pk}),
            {
                "action": "by_access",
                "access-staff": self.representative.pk,
                "access-start": start.strftime("%Y-%m-%dT%H:%M"),
                "access-end": (timezone.localtime() + timedelta(minutes=5)).strftime(
                    "%Y-%m-%dT%H:%M"
                ),
            },
        )
        affected = set(incident.affected.values_list("member__member_id", flat=True))
        self.assertEqual(affected, {"M-ALICE", "M-BRUNO"})
        officer.post(
            reverse("privacy:staff_incident", kwargs={"pk": incident.pk}), {"action": "notify"}
        )
        run_worker()
        incident.refresh_from_db()
        self.assertEqual(incident.status, Incident.Status.NOTIFIED)
        self.assertEqual((incident.done, incident.total), (2, 2))
        alice = AffectedMember.objects.get(incident=incident, member=self.alice_member)
        bruno = AffectedMember.objects.get(incident=incident, member=self.bruno_member)
        self.assertEqual(alice.channels, ["portal", "email"])
        self.assertEqual(bruno.channels, ["portal", "post"])
        email = OutgoingEmail.objects.get(user=self.alice, category="required_notice")
        self.assertNotIn("laptop", email.text_body.lower())

        self.sign_in(self.alice)
        page = self.client.get(reverse("privacy:center"))
        self.assertContains(page, "Important: your information may have been exposed")
        notice = self.client.get(reverse("privacy:incident_notice", kwargs={"pk": incident.pk}))
        self.assertContains(notice, "A laptop that could show your name and address was stolen.")
        alice.refresh_from_db()
        self.assertIsNotNone(alice.seen_at)
        self.assertNotContains(self.client.get(reverse("privacy:center")), "may have been exposed")
        self.sign_in(self.oscar)
        self.assertEqual(
            self.client.get(
                reverse("privacy:incident_notice", kwargs={"pk": incident.pk})
            ).status_code,
            404,
        )

    @pytest.mark.promise("RIG-6")
    def test_members_can_be_listed_and_unknown_ids_are_named(self):
        officer = self.sign_in(self.privacy_officer, self.client_class())
        incident = self.record(officer)
        response = officer.post(
            reverse("privacy:staff_incident", kwargs={"pk": incident.pk}),
            {"action": "by_list", "list-member_ids": "M-ELENA\nM-NOBODY"},
        )
        self.assertContains(response, "Not on the roster: M-NOBODY")
        officer.post(
            reverse("privacy:staff_incident", kwargs={"pk": incident.pk}),
            {"action": "by_list", "list-member_ids": "M-ELENA, M-OSCAR"},
        )
        self.assertEqual(incident.affected.count(), 2)

    @pytest.mark.promise("RIG-6")
    def test_the_deadline_shows_late_when_passed_without_notification(self):
        officer = self.sign_in(self.privacy_officer, self.client_class())
        incident = self.record(officer)
        Incident.objects.filter(pk=incident.pk).update(
            notify_by=timezone.localdate() - timedelta(days=1)
        )
        page = officer.get(reverse("privacy:staff_incidents"))
        self.assertContains(page, "Late")
        self.assertContains(officer.get(reverse("privacy:dashboard")), "Laptop stolen")
