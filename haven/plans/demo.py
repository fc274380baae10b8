"""Synthetic plan, groups and eligibility roster for `haven demo`. Nobody here is real."""

from datetime import date

from haven.plans.models import EmployerGroup, Member, Plan

ROSTER = [
    # member_id, group, subscriber, relationship, first, last, gender, born, city, zip
    (
        "HVN1000001",
        "G-100",
        None,
        "self",
        "Alice",
        "Rivera",
        "F",
        date(1985, 4, 12),
        "Hartford",
        "06103",
    ),
    (
        "HVN1000002",
        "G-100",
        "HVN1000001",
        "spouse",
        "Bruno",
        "Rivera",
        "M",
        date(1983, 9, 2),
        "Hartford",
        "06103",
    ),
    (
        "HVN1000003",
        "G-100",
        "HVN1000001",
        "child",
        "Carla",
        "Rivera",
        "F",
        date(2015, 6, 30),
        "Hartford",
        "06103",
    ),
    (
        "HVN1000004",
        "G-100",
        "HVN1000001",
        "child",
        "Diego",
        "Rivera",
        "M",
        date(2020, 1, 15),
        "Hartford",
        "06103",
    ),
    (
        "HVN1000005",
        "G-100",
        None,
        "self",
        "Elena",
        "Moretti",
        "F",
        date(1958, 11, 3),
        "New Haven",
        "06510",
    ),
    (
        "HVN1000006",
        "G-200",
        None,
        "self",
        "Farid",
        "Haddad",
        "M",
        date(1991, 2, 21),
        "Stamford",
        "06901",
    ),
    (
        "HVN1000007",
        "G-200",
        None,
        "self",
        "Grace",
        "Okafor",
        "F",
        date(1977, 7, 7),
        "Bridgeport",
        "06604",
    ),
    (
        "HVN1000008",
        "G-200",
        None,
        "self",
        "Hugo",
        "Santos",
        "X",
        date(2001, 12, 9),
        "Waterbury",
        "06702",
    ),
]


def load() -> None:
    plan, _ = Plan.objects.get_or_create(
        code="HVN-GOLD-2026",
        defaults={"name": "Haven Gold PPO", "carrier": "Haven Health Plan", "year": 2026},
    )
    for number, name in [
        ("G-100", "Riverside School District"),
        ("G-200", "Harbor Logistics Inc."),
    ]:
        EmployerGroup.objects.get_or_create(
            group_number=number, defaults={"name": name, "plan": plan}
        )
    for (
        member_id,
        group,
        subscriber,
        relationship,
        first,
        last,
        gender,
        born,
        city,
        zip_code,
    ) in ROSTER:
        Member.objects.get_or_create(
            member_id=member_id,
            defaults={
                "group": EmployerGroup.objects.get(group_number=group),
                "subscriber": Member.objects.get(member_id=subscriber) if subscriber else None,
                "relationship": relationship,
                "first_name": first,
                "last_name": last,
                "gender": gender,
                "date_of_birth": born,
                "address_line": "1 Demo Street",
                "city": city,
                "region": "CT",
                "postal_code": zip_code,
                "coverage_start": date(2026, 1, 1),
            },
        )
