"""An employer as plan sponsor sees its own group's enrolment and administrative data, through
the audited accessor with its own purpose, and never claims or clinical data (DIS-3)."""

import pytest
from django.urls import reverse

from haven.accounts.models import User
from haven.audit import access
from haven.audit.models import AuditEvent, Outcome
from haven.audit.policy import Purpose, Resource
from haven.employers.models import SponsorContact
from haven.employers.services import sponsor_link, sponsor_read
from haven.plans.tests.fixtures import set_up_plan_and_claims
from haven.testing.people import HavenTestCase


class SponsorTests(HavenTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        set_up_plan_and_claims(cls)
        cls.contact = SponsorContact.objects.create(
            user=cls.employer, group=cls.group, linked_by=cls.administrator
        )

    @pytest.mark.promise("DIS-3")
    def test_the_employer_sees_its_groups_enrolment_and_nothing_of_claims(self):
        self.sign_in(self.employer)
        response = self.client.get(reverse("employers:home"))
        self.assertContains(response, "Riverside")
        for name in ("Alice", "Bruno", "Teo", "Carla", "Elena"):
            self.assertContains(response, name)
        self.assertNotContains(response, "Oscar")
        self.assertContains(response, "M-ALICE")
        # Claims, providers and diagnoses of the family are nowhere on the pages.
        detail = self.client.get(reverse("employers:member", kwargs={"pk": self.alice_member.pk}))
        for page in (response, detail):
            for secret in ("A-1", "Riverside Family Medicine", "E11.9", "Teen Counselling"):
                self.assertNotContains(page, secret)
        self.assertContains(detail, "Subscriber")

        reads = AuditEvent.objects.filter(subtype="sponsor-view")
        self.assertEqual(reads.count(), 6)  # five on the list, one on the page
        for event in reads:
            self.assertEqual(event.purpose, Purpose.PLAN_SPONSOR)
            self.assertEqual(set(event.entity), {Resource.DEMOGRAPHICS, Resource.COVERAGE})
            self.assertEqual((event.actor, event.actor_kind), (self.employer, User.Kind.EMPLOYER))

    @pytest.mark.promise("DIS-3")
    def test_reaching_for_claims_is_refused_by_the_accessor_and_recorded(self):
        for resources in ([Resource.CLAIMS], [Resource.DOCUMENTS], [Resource.MESSAGES]):
            with self.assertRaises(access.NotPermitted):
                sponsor_read(contact=self.contact, member=self.alice_member, resources=resources)
        refused = AuditEvent.objects.filter(outcome=Outcome.DENIED, member=self.alice_member)
        self.assertEqual(refused.count(), 3)
        self.assertEqual(
            {resource for event in refused for resource in event.entity},
            {Resource.CLAIMS, Resource.DOCUMENTS, Resource.MESSAGES},
        )
        self.assertTrue(all(event.purpose == Purpose.PLAN_SPONSOR for event in refused))
        # Asking for claims beside enrolment data gives the enrolment data and withholds claims.
        shown = sponsor_read(
            contact=self.contact,
            member=self.alice_member,
            resources=[Resource.DEMOGRAPHICS, Resource.CLAIMS],
        )
        self.assertEqual(shown.permitted.withheld, (Resource.CLAIMS,))
        self.assertNotIn(Resource.CLAIMS, shown.permitted.fields)
        # The plan sponsor's purpose opens no claims field, whoever states it.
        with self.assertRaises(access.NotPermitted):
            access.read(
                member=self.alice_member,
                resource=Resource.CLAIMS,
                purpose=Purpose.PLAN_SPONSOR,
                actor=self.employer,
            )

    @pytest.mark.promise("DIS-3")
    def test_the_employer_cannot_reach_claims_pages_or_another_groups_members(self):
        self.sign_in(self.employer)
        claim_pk = self.alice_member.claims.first().pk
        for url in (
            reverse("plans:claims"),
            reverse("plans:claim", kwargs={"pk": claim_pk}),
            reverse("plans:mine"),
            reverse("employers:member", kwargs={"pk": self.oscar_member.pk}),
        ):
            self.assertIn(self.client.get(url).status_code, (403, 404), url)
        with self.assertRaises(access.NotAuthorised):
            sponsor_read(contact=self.contact, member=self.oscar_member)
        self.assertFalse(AuditEvent.objects.filter(member=self.oscar_member).exists())

    def test_an_unlinked_employer_is_told_to_ask_for_a_link_and_sees_nobody(self):
        SponsorContact.objects.all().delete()
        self.sign_in(self.employer)
        response = self.client.get(reverse("employers:home"))
        self.assertContains(response, "not linked to a group yet")
        self.assertNotContains(response, "Alice")
        self.assertEqual(
            self.client.get(
                reverse("employers:member", kwargs={"pk": self.alice_member.pk})
            ).status_code,
            403,
        )

    def test_administrators_link_employer_accounts_and_nobody_else_may(self):
        self.sign_in(self.administrator)
        response = self.client.post(
            reverse("employers:contacts"), {"username": "HR", "group_number": "G-2"}
        )
        self.assertRedirects(response, reverse("employers:contacts"))
        self.contact.refresh_from_db()
        self.assertEqual(self.contact.group, self.other_group)
        response = self.client.post(
            reverse("employers:contacts"), {"username": "alice", "group_number": "G-2"}
        )
        self.assertContains(response, "No employer account has this username.")
        with self.assertRaises(access.PermissionDenied):
            sponsor_link(user=self.employer, group=self.group, actor=self.representative)

    def test_the_home_page_and_the_staff_workspace_lead_to_the_employer_pages(self):
        self.sign_in(self.employer)
        self.assertContains(self.client.get(reverse("front:home")), reverse("employers:home"))
        self.sign_in(self.alice)
        self.assertNotContains(self.client.get(reverse("front:home")), reverse("employers:home"))
        self.sign_in(self.administrator)
        workspace = self.client.get(reverse("front:staff_home"))
        self.assertContains(workspace, reverse("employers:contacts"))
        self.sign_in(self.representative)
        workspace = self.client.get(reverse("front:staff_home"))
        self.assertNotContains(workspace, reverse("employers:contacts"))
