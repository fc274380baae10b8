from datetime import date

from haven.plans import demo
from haven.plans.models import Claim, ClaimStatusChange, Member, PlanBenefit, Rate
from haven.testing.people import HavenTestCase


class DemoTests(HavenTestCase):
    def test_the_demo_roster_keeps_its_people_and_runs_twice_unchanged(self):
        demo.load()
        counts = [
            model.objects.count() for model in (Member, Claim, ClaimStatusChange, PlanBenefit, Rate)
        ]

        demo.load()

        self.assertEqual(
            [
                model.objects.count()
                for model in (Member, Claim, ClaimStatusChange, PlanBenefit, Rate)
            ],
            counts,
        )
        alice = Member.objects.get(member_id="HVN1000001")
        self.assertEqual(
            (alice.full_name, alice.date_of_birth), ("Alice Rivera", date(1985, 4, 12))
        )
        self.assertEqual(alice.group.group_number, "G-100")
        self.assertEqual(
            sorted(alice.dependants.values_list("member_id", flat=True)),
            ["HVN1000002", "HVN1000003", "HVN1000004"],
        )
        expected = {
            "HVN1000005": ("Elena Moretti", "G-100"),
            "HVN1000006": ("Farid Haddad", "G-200"),
            "HVN1000007": ("Grace Okafor", "G-200"),
            "HVN1000008": ("Hugo Santos", "G-200"),
        }
        for member_id, (name, group) in expected.items():
            member = Member.objects.get(member_id=member_id)
            self.assertEqual((member.full_name, member.group.group_number), (name, group))

    def test_every_demo_member_has_claims_and_the_plan_has_benefits(self):
        demo.load()

        for member in Member.objects.filter(member_id__startswith="HVN"):
            self.assertTrue(Claim.objects.filter(member=member).exists(), member.member_id)
        self.assertEqual(PlanBenefit.objects.filter(plan__code="HVN-GOLD-2026").count(), 16)
