import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from haven.audit.models import AuditEvent, Outcome
from haven.caregivers.middleware import ACTING_FOR_GRANT
from haven.plans.imports import import_text
from haven.plans.models import Claim
from haven.plans.tests.fixtures import CLAIMS, set_up_plan_and_claims
from haven.testing.people import HavenTestCase


class MemberClaimTests(HavenTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        set_up_plan_and_claims(cls)

    def act_for_teo(self):
        session = self.client.session
        session[ACTING_FOR_GRANT] = self.teo_guardian_grant.pk
        session.save()

    @pytest.mark.promise("PLAN-2")
    def test_a_member_sees_the_status_of_each_of_her_claims(self):
        self.sign_in(self.alice)

        response = self.client.get(reverse("plans:claims"))

        claims = response.context["listed"].claims
        self.assertEqual([claim.claim_number for claim in claims], ["A-2", "A-1"])
        self.assertContains(response, "Capitol Imaging Center")
        self.assertContains(response, "Denied")
        self.assertContains(response, "Paid")
        self.assertNotContains(response, "Harbor Urgent Care")
        self.assertNotContains(response, "E11.9")

    @pytest.mark.promise("PLAN-2")
    def test_a_claim_shows_its_amounts_codes_and_history(self):
        claim = Claim.objects.get(claim_number="A-1")
        self.sign_in(self.alice)

        response = self.client.get(reverse("plans:claim", kwargs={"pk": claim.pk}))

        self.assertContains(response, "$200.00")
        self.assertContains(response, "$150.00")
        self.assertContains(response, "<strong>$50.00</strong>", html=False)
        self.assertContains(response, "E11.9")
        self.assertContains(response, "80053")
        self.assertEqual(
            [step.status for step in response.context["history"]],
            ["received", "pending_information", "paid"],
        )
        self.assertContains(response, "Waiting for the referral")
        event = AuditEvent.objects.filter(member=self.alice_member).latest("sequence")
        self.assertEqual((event.actor, event.record_id), (self.alice, str(claim.pk)))

    @pytest.mark.promise("PLAN-2")
    def test_a_member_cannot_open_someone_elses_claim(self):
        bruno_claim = Claim.objects.get(claim_number="B-1")
        self.sign_in(self.alice)

        response = self.client.get(reverse("plans:claim", kwargs={"pk": bruno_claim.pk}))

        self.assertEqual(response.status_code, 404)

    @pytest.mark.promise("PLAN-2")
    def test_a_guardian_sees_the_childs_claims_except_those_in_a_protected_category(self):
        counselling = Claim.objects.get(claim_number="T-2")
        self.sign_in(self.alice)
        self.act_for_teo()

        listing = self.client.get(reverse("plans:claims"))
        detail = self.client.get(reverse("plans:claim", kwargs={"pk": counselling.pk}))

        self.assertEqual([c.claim_number for c in listing.context["listed"].claims], ["T-1"])
        self.assertContains(listing, "1 claim is in a protected category and is not shown to you.")
        self.assertNotContains(listing, "Teen Counselling Center")
        self.assertEqual(detail.status_code, 403)
        self.assertNotContains(detail, "F32.9", status_code=403)
        refusal = AuditEvent.objects.filter(member=self.teo_member).latest("sequence")
        self.assertEqual((refusal.outcome, refusal.category), (Outcome.DENIED, "mental_health"))

    def test_the_member_herself_sees_her_claims_in_protected_categories(self):
        import_text(
            "claims",
            CLAIMS.splitlines()[0]
            + "\nA-3,M-ALICE,2026-06-01,Counselling,mental_health,paid,2026-06-10,,100,80,60,20,"
            "20,F41.1,90834\n",
        )
        self.sign_in(self.alice)

        response = self.client.get(reverse("plans:claims"))

        self.assertIn("A-3", [claim.claim_number for claim in response.context["listed"].claims])
        self.assertEqual(response.context["listed"].hidden, 0)

    def test_the_claims_list_costs_the_same_queries_for_more_claims(self):
        self.sign_in(self.alice)
        self.client.get(reverse("plans:claims"))
        with CaptureQueriesContext(connection) as few:
            self.client.get(reverse("plans:claims"))
        rows = [
            f"X-{n},M-ALICE,2026-07-0{n},Clinic,lab,paid,2026-07-2{n},,10,5,5,0,0,,"
            for n in range(1, 8)
        ]
        import_text("claims", CLAIMS.splitlines()[0] + "\n" + "\n".join(rows) + "\n")

        with CaptureQueriesContext(connection) as many:
            response = self.client.get(reverse("plans:claims"))

        self.assertEqual(len(response.context["listed"].claims), 9)
        self.assertEqual(len(many), len(few))
