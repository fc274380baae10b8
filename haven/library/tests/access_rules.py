"""Who may open each URL of the health library. The library and programme pages are open to
everyone (articles not marked public ask visitors to sign in); joining, leaving and a member's own
page only for members; a questionnaire only for the member it was sent to; writing content only
for staff who write it (the care team, or staff given the permission)."""

from datetime import timedelta

from haven.library import demo, services
from haven.library.models import Article, DeliveryKind, Frequency, Programme
from haven.testing.access import EVERYONE, GUARDIAN, MEMBER, MEMBERS, STAFF, Rule

WRITERS = {STAFF["care_team"]}
ALICE = {MEMBER, GUARDIAN}  # the same account, acting for herself or for her son


def content(case) -> dict:
    demo.load()
    return {}


def public_article(case) -> dict:
    demo.load()
    return {"slug": "flu-vaccine"}


def an_article(case) -> dict:
    demo.load()
    return {"pk": Article.objects.get(slug="flu-vaccine").pk}


def the_programme(case) -> dict:
    demo.load()
    return {"slug": demo.PROGRAMME_SLUG}


def programme_pk(case) -> dict:
    demo.load()
    return {"pk": Programme.objects.get(slug=demo.PROGRAMME_SLUG).pk}


def a_tip(case) -> dict:
    demo.load()
    programme = Programme.objects.get(slug=demo.PROGRAMME_SLUG)
    return {"pk": programme.pk, "item_pk": programme.items.filter(kind="tip").first().pk}


def alices_questionnaire(case) -> dict:
    demo.load()
    enrolment = services.enrol(
        user=case.alice,
        programme=Programme.objects.get(slug=demo.PROGRAMME_SLUG),
        reminders=Frequency.NONE,
        questionnaires=Frequency.WEEKLY,
        channels=[],
    )
    services.enrolment_send_due(
        enrolment_id=enrolment.pk, now=enrolment.next_questionnaire_at + timedelta(minutes=1)
    )
    return {"pk": enrolment.deliveries.filter(kind=DeliveryKind.QUESTIONNAIRE).first().pk}


CHOICES = {"reminders": "weekly", "questionnaires": "none"}

RULES = [
    Rule("library:index", EVERYONE, kwargs=content),
    Rule("library:article", EVERYONE, kwargs=public_article),
    Rule("library:programme", EVERYONE, kwargs=the_programme),
    Rule(
        "library:programme",
        MEMBERS,
        method="POST",
        kwargs=the_programme,
        data=CHOICES,
        ok=(302,),
        note="joining or changing choices",
    ),
    Rule("library:mine", MEMBERS),
    Rule("library:questionnaire", ALICE, kwargs=alices_questionnaire),
    Rule(
        "library:questionnaire",
        ALICE,
        method="POST",
        kwargs=alices_questionnaire,
        data={"q0": "1"},
        ok=(200, 302),
    ),
    Rule("library:leave", MEMBERS, method="POST", kwargs=the_programme, ok=(302,)),
    Rule("library:staff_content", WRITERS),
    Rule("library:article_new", WRITERS),
    Rule("library:article_edit", WRITERS, kwargs=an_article),
    Rule("library:programme_edit", WRITERS, kwargs=programme_pk),
    Rule("library:item_new", WRITERS, kwargs=programme_pk),
    Rule("library:item_edit", WRITERS, kwargs=a_tip),
]
