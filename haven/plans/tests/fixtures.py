"""A plan with benefits and a few claims for the Rivera family, for the member pages' tests."""

from decimal import Decimal

from haven.plans.imports import import_text
from haven.plans.models import Plan, PlanBenefit

CLAIMS = (
    "claim_number,member_id,service_start,provider_name,service_category,status,status_date,"
    "status_note,billed_amount,allowed_amount,plan_paid,member_responsibility,deductible_applied,"
    "diagnosis_codes,procedure_codes\n"
    "A-1,M-ALICE,2026-02-10,Riverside Family Medicine,lab,received,2026-02-12,,200,,,,,E11.9,80053\n"
    "A-1,M-ALICE,2026-02-10,Riverside Family Medicine,lab,pending_information,2026-02-15,"
    "Waiting for the referral,200,,,,,E11.9,80053\n"
    "A-1,M-ALICE,2026-02-10,Riverside Family Medicine,lab,paid,2026-02-28,,200,150,100,50,50,"
    "E11.9,80053\n"
    "A-2,M-ALICE,2026-03-01,Capitol Imaging Center,imaging,denied,2026-03-20,"
    "No prior authorisation,900,0,0,0,0,M54.5,72148\n"
    "B-1,M-BRUNO,2026-03-05,Harbor Urgent Care,urgent_care,paid,2026-03-15,,300,200,100,100,100,"
    "J06.9,99213\n"
    "T-1,M-TEO,2026-04-01,Riverside Family Medicine,primary_care,paid,2026-04-10,,150,100,75,25,"
    "0,J02.9,99213\n"
    "T-2,M-TEO,2026-05-01,Teen Counselling Center,mental_health,paid,2026-05-12,,180,120,90,30,"
    "30,F32.9,90834\n"
)


def set_up_plan_and_claims(case) -> None:
    """For a HavenTestCase's setUpTestData: TEST-PPO gets deductibles, benefits and claims."""
    Plan.objects.filter(pk=case.plan.pk).update(
        deductible_individual=Decimal("1000"),
        deductible_family=Decimal("2000"),
        out_of_pocket_max_individual=Decimal("4000"),
        out_of_pocket_max_family=Decimal("8000"),
        member_services_phone="1-800-555-0142",
        rx_bin="610014",
        rx_pcn="HVNRX",
        rx_group="HVNTEST",
    )
    case.plan.refresh_from_db()
    PlanBenefit.objects.create(
        plan=case.plan,
        category="primary_care",
        in_network_copay=Decimal("25"),
        in_network_deductible_applies=False,
        out_of_network_coinsurance=40,
    )
    PlanBenefit.objects.create(
        plan=case.plan,
        category="hospital",
        in_network_coinsurance=20,
        out_of_network_covered=False,
        limits="Prior authorisation needed",
    )
    result = import_text("claims", CLAIMS)
    assert result.rejected == 0, result.rejections
