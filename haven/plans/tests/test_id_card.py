import pytest
from django.urls import reverse
from django.utils import timezone

from haven.audit.models import AuditEvent
from haven.caregivers.middleware import ACTING_FOR_GRANT
from haven.caregivers.models import Grant, Scope
from haven.plans.tests.fixtures import set_up_plan_and_claims
from haven.testing.people import HavenTestCase


class IdCardTests(HavenTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        set_up_plan_and_claims(cls)

    @pytest.mark.promise("PLAN-3")
    def test_a_member_sees_her_id_card_with_the_plans_details(self):
        self.sign_in(self.alice)

        response = self.client.get(reverse("plans:card"))

        self.assertContains(response, "Alice Rivera")
        self.assertContains(response, "M-ALICE")
        self.assertContains(response, "Test PPO")
        self.assertContains(response, "G-1")
        self.assertContains(response, "TEST-PPO")
        self.assertContains(response, "610014")
        self.assertContains(response, "HVNRX")
        self.assertContains(response, "HVNTEST")
        self.assertContains(response, "Primary care visit: $25")
        self.assertContains(response, "1-800-555-0142")
        self.assertContains(response, "plans/plans.css")
        event = AuditEvent.objects.filter(member=self.alice_member).latest("sequence")
        self.assertEqual((event.actor, event.subtype), (self.alice, "id_card"))

    @pytest.mark.promise("PLAN-3")
    def test_a_guardian_sees_the_childs_card(self):
        self.sign_in(self.alice)
        session = self.client.session
        session[ACTING_FOR_GRANT] = self.teo_guardian_grant.pk
        session.save()

        response = self.client.get(reverse("plans:card"))

        self.assertContains(response, "Teo Rivera")
        self.assertContains(response, "M-TEO")
        self.assertNotContains(response, "M-ALICE")

    def test_a_caregiver_with_the_plan_scope_alone_sees_the_plan_but_not_the_name(self):
        grant = Grant.objects.create(
            member=self.elena_member,
            grantee=self.maria,
            kind=Grant.Kind.CAREGIVER,
            scopes=[Scope.PLAN],
            expires_at=Grant.default_caregiver_expiry(),
            accepted_at=timezone.now(),
            created_by=self.elena,
        )
        self.sign_in(self.maria)
        session = self.client.session
        session["haven_acting_for_grant"] = grant.pk
        session.save()

        response = self.client.get(reverse("plans:card"))

        self.assertContains(response, "TEST-PPO")
        self.assertNotContains(response, "M-ELENA")
        self.assertContains(response, "not shared with you")

    @pytest.mark.promise("PLAN-3")
    def test_an_outsider_sees_only_his_own_card(self):
        self.sign_in(self.oscar)

        response = self.client.get(reverse("plans:card"))

        self.assertContains(response, "M-OSCAR")
        self.assertNotContains(response, "M-ALICE")
