from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from haven.audit.models import AuditEvent, Outcome
from haven.caregivers.middleware import ACTING_FOR_GRANT
from haven.caregivers.models import Grant, Scope
from haven.plans.tests.fixtures import set_up_plan_and_claims
from haven.testing.people import HavenTestCase


class MemberPlanTests(HavenTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        set_up_plan_and_claims(cls)

    def act_for(self, grant):
        session = self.client.session
        session[ACTING_FOR_GRANT] = grant.pk
        session.save()

    @pytest.mark.promise("PLAN-1")
    def test_a_member_sees_plan_benefits_eligibility_and_progress(self):
        self.sign_in(self.alice)

        response = self.client.get(reverse("plans:mine"))

        self.assertContains(response, "Test PPO (2026)")
        self.assertContains(response, "Riverside (G-1)")
        self.assertContains(response, "Covered")
        self.assertContains(response, "$50.00 of $1,000.00")
        self.assertContains(response, "$950.00 to go")
        self.assertContains(response, "Primary care visit")
        self.assertContains(response, "$25.00 copay · no deductible")
        self.assertContains(response, "20% coinsurance · after the deductible")
        self.assertContains(response, "Not covered")
        self.assertContains(response, "Prior authorisation needed")

    @pytest.mark.promise("PLAN-1")
    def test_the_page_is_read_through_the_accessor_with_the_member_as_actor(self):
        self.sign_in(self.alice)

        self.client.get(reverse("plans:mine"))

        event = AuditEvent.objects.filter(member=self.alice_member).latest("sequence")
        self.assertEqual(
            (event.actor, event.purpose, event.outcome), (self.alice, "self", "allowed")
        )
        self.assertIn("coverage", event.entity)

    @pytest.mark.promise("PLAN-1")
    def test_the_subscriber_sees_the_family_totals_and_the_dependants_who_share_with_her(self):
        self.sign_in(self.alice)

        response = self.client.get(reverse("plans:mine"))

        view = response.context["view"]
        # Alice 50 + Bruno 100 + Teo 0 (copay) + 30 (counselling) towards the family deductible.
        self.assertEqual(str(view.family_deductible.met), "180.00")
        self.assertEqual([person.member for person in view.family], [self.teo_member])
        self.assertEqual(view.family_not_shown, 2)
        self.assertContains(response, "Teo Rivera")
        self.assertNotContains(response, "Bruno Rivera")
        self.assertContains(response, "Your plan also covers 2 more people")
        self.assertTrue(
            AuditEvent.objects.filter(member=self.teo_member, actor=self.alice, purpose="proxy")
            .filter(outcome=Outcome.ALLOWED)
            .exists()
        )

    @pytest.mark.promise("PLAN-1")
    def test_a_dependant_sees_their_own_plan_and_not_the_family(self):
        self.sign_in(self.bruno)

        response = self.client.get(reverse("plans:mine"))

        view = response.context["view"]
        self.assertEqual(view.member, self.bruno_member)
        self.assertEqual(str(view.deductible.met), "100.00")
        self.assertIsNone(view.family_deductible)
        self.assertEqual(view.family, [])
        self.assertNotContains(response, "Your family on this plan")

    def test_coverage_that_ended_shows_as_not_covered(self):
        self.alice_member.coverage_end = timezone.localdate() - timedelta(days=1)
        self.alice_member.save()
        self.sign_in(self.alice)

        response = self.client.get(reverse("plans:mine"))

        self.assertFalse(response.context["view"].covered_today)
        self.assertContains(response, "badge-error")

    @pytest.mark.promise("PLAN-1")
    def test_a_guardian_acting_for_a_child_sees_the_childs_plan(self):
        self.sign_in(self.alice)
        self.act_for(self.teo_guardian_grant)

        response = self.client.get(reverse("plans:mine"))

        view = response.context["view"]
        self.assertEqual(view.member, self.teo_member)
        self.assertEqual(view.permitted.purpose, "proxy")
        self.assertEqual(str(view.deductible.met), "30.00")
        self.assertEqual(view.family, [])

    @pytest.mark.promise("PLAN-1")
    def test_a_caregiver_without_the_plan_scope_is_refused_and_the_refusal_recorded(self):
        self.sign_in(self.maria)
        self.act_for(self.maria_grant)

        response = self.client.get(reverse("plans:mine"))

        self.assertEqual(response.status_code, 403)
        self.assertContains(response, "not authorised", status_code=403)
        event = AuditEvent.objects.filter(member=self.elena_member).latest("sequence")
        self.assertEqual((event.actor, event.outcome), (self.maria, Outcome.DENIED))

    def test_a_caregiver_with_the_plan_scope_only_sees_the_plan_without_claim_totals(self):
        grant = Grant.objects.create(
            member=self.bruno_member,
            grantee=self.maria,
            kind=Grant.Kind.CAREGIVER,
            scopes=[Scope.PLAN],
            expires_at=Grant.default_caregiver_expiry(),
            accepted_at=timezone.now(),
            created_by=self.bruno,
        )
        self.sign_in(self.maria)
        self.act_for(grant)

        response = self.client.get(reverse("plans:mine"))

        self.assertEqual(response.status_code, 200)
        self.assertIsNone(response.context["view"].deductible)
        self.assertContains(response, "Progress comes from claims, which are not shared with you.")
        self.assertNotContains(response, "$100.00 of")

    def test_a_caregiver_who_has_chosen_nobody_is_asked_to_choose(self):
        self.sign_in(self.maria)

        response = self.client.get(reverse("plans:mine"))

        self.assertContains(response, "Whose plan do you want to see?")

    def test_the_plan_page_costs_the_same_queries_with_more_benefits(self):
        self.sign_in(self.bruno)
        self.client.get(reverse("plans:mine"))
        with CaptureQueriesContext(connection) as few:
            self.client.get(reverse("plans:mine"))
        for category in ("specialist", "lab", "imaging"):
            self.plan.benefits.create(category=category, in_network_copay=10)

        with CaptureQueriesContext(connection) as many:
            response = self.client.get(reverse("plans:mine"))

        self.assertEqual(len(response.context["view"].benefits), 5)
        self.assertEqual(len(many), len(few))
