"""Who may open each URL of finding and booking care. The directory, practice pages, the leaving
page and the never-invite link are public; an appointment only for its member (and their permitted
caregivers and guardians), the practice it is with, and staff whose role and purpose open it."""

from haven.audit.tests.training import train_all_staff
from haven.care import links, services
from haven.care.models import Review
from haven.care.tests.world import book, world
from haven.testing.access import (
    CAREGIVER,
    CONSUMER,
    EVERYONE,
    GUARDIAN,
    MEMBER,
    MEMBERS,
    PROVIDER,
    STAFF,
    Rule,
)

BOOKERS = MEMBERS | {CAREGIVER, CONSUMER}
ALICE = {MEMBER, GUARDIAN}  # the same person, acting for herself or for her son
OPERATIONS_STAFF = {STAFF["care_team"], STAFF["customer_service"]}


def kim(case) -> dict:
    return {"pk": world(case).kim.pk}


def clinic(case) -> dict:
    return {"pk": world(case).clinic.pk}


def a_free_slot(case) -> dict:
    return {"pk": world(case).fresh_slot().pk}


def a_practice(case) -> dict:
    world(case)
    return {}


def alices_appointment(case) -> dict:
    train_all_staff(case)
    appointment = book(case, case.alice, world(case).fresh_slot(), allow_referrals=True)
    return {"pk": appointment.pk}


def teos_appointment(case) -> dict:
    train_all_staff(case)
    appointment = book(case, case.alice, world(case).fresh_slot(), member=case.teo_member)
    return {"pk": appointment.pk}


def elenas_appointment_booked_by_maria(case) -> dict:
    train_all_staff(case)
    appointment = book(
        case, case.maria, world(case).fresh_slot(), member=case.elena_member, shared=["visit"]
    )
    return {"pk": appointment.pk}


def consumers_appointment(case) -> dict:
    appointment = book(case, case.consumer, world(case).fresh_slot(), member=None)
    return {"pk": appointment.pk}


def a_request(case) -> dict:
    appointment = book(case, case.bruno, world(case).fresh_slot(world(case).follow_up))
    return {"pk": appointment.pk}


def alices_review(case) -> dict:
    review = services.review_save(
        practitioner=world(case).kim,
        rating=5,
        text="Kind and unhurried, and the front desk was helpful.",
        actor=case.alice,
    )
    return {"pk": review.pk}


def kim_with_alices_review(case) -> dict:
    alices_review(case)
    return kim(case)


def any_review(case) -> dict:
    review = Review.objects.filter(practitioner=world(case).kim).first() or Review.objects.get(
        pk=alices_review(case)["pk"]
    )
    return {"pk": review.pk}


def leaving_token(case) -> dict:
    return {"to": links.leaving_token("https://example.org/practice")}


def never_token(case) -> dict:
    return {"token": links.never_invite_token(services.suppression_hash("someone@example.org"))}


RULES = [
    Rule("care:search", EVERYONE),
    Rule("care:practitioner", EVERYONE, kwargs=kim),
    Rule("care:facility", EVERYONE, kwargs=clinic),
    Rule("care:leaving", EVERYONE, data=leaving_token),
    Rule("care:never_invite", EVERYONE, kwargs=never_token),
    Rule("care:book", BOOKERS, kwargs=a_free_slot),
    Rule("care:appointments", BOOKERS),
    Rule(
        "care:appointment",
        ALICE | {PROVIDER} | OPERATIONS_STAFF,
        kwargs=alices_appointment,
        data={"purpose": "operations"},
        note="staff with an operations purpose their role opens appointments for",
    ),
    Rule(
        "care:appointment",
        ALICE | {PROVIDER} | OPERATIONS_STAFF,
        kwargs=teos_appointment,
        data={"purpose": "operations"},
        note="Alice as Teo's guardian",
    ),
    Rule(
        "care:appointment",
        {CAREGIVER, PROVIDER} | OPERATIONS_STAFF,
        kwargs=elenas_appointment_booked_by_maria,
        data={"purpose": "operations"},
    ),
    Rule("care:appointment", {CONSUMER, PROVIDER}, kwargs=consumers_appointment),
    Rule("care:move", ALICE, kwargs=alices_appointment),
    Rule("care:cancel", ALICE | {PROVIDER}, method="POST", kwargs=alices_appointment, ok=(302,)),
    Rule("care:decide", {PROVIDER}, method="POST", kwargs=a_request, ok=(302,)),
    Rule("care:refer", {PROVIDER}, kwargs=alices_appointment),
    Rule("care:provider_home", {PROVIDER}, kwargs=a_practice),
    Rule("care:provider_services", {PROVIDER}, kwargs=a_practice),
    Rule("care:provider_availability", {PROVIDER}, kwargs=a_practice),
    Rule("care:slot_withdraw", {PROVIDER}, method="POST", kwargs=a_free_slot, ok=(302,)),
    Rule("care:review", BOOKERS, kwargs=kim),
    Rule(
        "care:review_delete",
        BOOKERS,
        method="POST",
        kwargs=kim_with_alices_review,
        ok=(302,),
        note="deletes only the signed-in person's own review",
    ),
    Rule("care:review_answer", {PROVIDER}, kwargs=any_review),
    Rule("care:invite", BOOKERS | {PROVIDER}),
]
