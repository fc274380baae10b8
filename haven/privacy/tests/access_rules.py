"""Who may open each privacy-center URL: the notice, recipients, cookies and contact for everyone;
choices and requests for account holders (a request only for its requester); the office for the
privacy officer (member services for corrections and the print queue)."""

from datetime import timedelta

from django.utils import timezone

from haven.audit.tests.training import train_all_staff
from haven.privacy import services
from haven.privacy.models import Archive, Incident, Notice, Recipient, RightsRequest
from haven.privacy.tests.helpers import published_notice, recipient
from haven.testing.access import (
    ALL_STAFF,
    CONSUMER,
    EVERYONE,
    GUARDIAN,
    MEMBER,
    MEMBERS,
    SIGNED_IN,
    STAFF,
    Rule,
)

ALICE = {MEMBER, GUARDIAN}  # the same person, acting for herself or for her son
ACCOUNT_HOLDERS = SIGNED_IN - ALL_STAFF
REQUESTERS = MEMBERS | {CONSUMER}  # the caregiver's grant has no privacy scope
OFFICER = {STAFF["privacy_officer"]}
CORRECTIONS = OFFICER | {STAFF["customer_service"]}


def notice(case) -> Notice:
    return Notice.objects.filter(status="published").first() or published_notice(
        case.privacy_officer
    )


def revision(case) -> dict:
    return {"revision": notice(case).revision_date.isoformat()}


def with_notice(case) -> dict:
    notice(case)
    return {}


def alices_request(kind):
    def kwargs(case) -> dict:
        train_all_staff(case)
        made = RightsRequest.objects.filter(requester=case.alice, kind=kind).first()
        if made is None:
            extra = {"field": "city", "proposed_value": "New Haven"} if kind == "correction" else {}
            made = services.rights_request_create(
                kind=kind,
                requester=case.alice,
                member=case.alice_member,
                identity="password",
                **extra,
            )
        return {"pk": made.pk}

    return kwargs


def alices_archive_token(case) -> dict:
    pk = alices_request("access")(case)["pk"]
    archive = Archive.objects.get(request_id=pk)
    if archive.status == Archive.Status.QUEUED:
        services.archive_build(archive_id=archive.pk)
    archive.refresh_from_db()
    return {"token": services.archive_link_renew(archive=archive, actor=case.alice)}


def alices_location(case) -> dict:
    permission = services.location_permission_record(
        user=case.alice, purpose="find_doctor", actor=case.alice
    )
    return {"pk": permission.pk}


def incident_for_alice(case) -> dict:
    incident = Incident.objects.create(
        title="Stolen laptop",
        description="A laptop was stolen.",
        member_message="Your name may have been exposed.",
        discovered_at=timezone.now() - timedelta(days=1),
        notify_by=timezone.localdate() + timedelta(days=59),
        recorded_by=case.privacy_officer,
    )
    services.incident_select(
        incident=incident, members=[case.alice_member], how="listed", actor=case.privacy_officer
    )
    incident.affected.update(notified_at=timezone.now(), channels=["portal"])
    return {"pk": incident.pk}


def any_notice(case) -> dict:
    return {"pk": notice(case).pk}


def a_recipient(case) -> dict:
    found = Recipient.objects.first() or recipient(case.privacy_officer)
    return {"pk": found.pk}


RULES = [
    Rule("gpc_json", EVERYONE),
    Rule("privacy:center", EVERYONE),
    Rule("privacy:notice_current", EVERYONE, kwargs=with_notice),
    Rule("privacy:notice_version", EVERYONE, kwargs=revision),
    Rule("privacy:notice_pdf", EVERYONE, kwargs=revision),
    Rule("privacy:notice_acknowledge", SIGNED_IN, method="POST", kwargs=any_notice, ok=(302,)),
    Rule("privacy:printed_copy", ACCOUNT_HOLDERS, kwargs=with_notice),
    Rule("privacy:recipients", EVERYONE),
    Rule("privacy:contact", EVERYONE),
    Rule("privacy:cookies", EVERYONE),
    Rule(
        "privacy:page_time",
        EVERYONE,
        method="POST",
        data={"page": "front:home", "seconds": "5"},
        ok=(204,),
    ),
    Rule("privacy:preferences", ACCOUNT_HOLDERS),
    Rule("privacy:marketing", ACCOUNT_HOLDERS),
    Rule("privacy:consents", ACCOUNT_HOLDERS),
    Rule(
        "privacy:location_permission",
        ACCOUNT_HOLDERS,
        method="POST",
        data={"purpose": "find_doctor"},
        ok=(302,),
    ),
    Rule("privacy:location_withdraw", ALICE, method="POST", kwargs=alices_location, ok=(302,)),
    Rule("privacy:requests", REQUESTERS),
    Rule("privacy:request_new", REQUESTERS, kwargs={"kind": "access"}),
    Rule("privacy:request_detail", ALICE, kwargs=alices_request("correction")),
    Rule("privacy:request_progress", ALICE, kwargs=alices_request("access")),
    Rule(
        "privacy:request_download",
        ALICE,
        method="POST",
        kwargs=alices_request("access"),
        ok=(302, 410),
    ),
    Rule("privacy:archive_download", ALICE, kwargs=alices_archive_token),
    Rule("privacy:accounting", REQUESTERS),
    Rule("privacy:incident_notice", ALICE, kwargs=incident_for_alice),
    Rule("privacy:dashboard", CORRECTIONS),
    Rule("privacy:staff_request", CORRECTIONS, kwargs=alices_request("correction")),
    Rule("privacy:staff_notices", OFFICER),
    Rule("privacy:staff_notice", OFFICER, kwargs=any_notice),
    Rule("privacy:staff_recipients", OFFICER),
    Rule("privacy:staff_recipient", OFFICER, kwargs=a_recipient),
    Rule("privacy:staff_disclosure", OFFICER),
    Rule("privacy:staff_incidents", OFFICER),
    Rule("privacy:staff_incident", OFFICER, kwargs=incident_for_alice),
    Rule("privacy:staff_printed_copies", CORRECTIONS),
    Rule("privacy:staff_inquiries", OFFICER),
    Rule("privacy:staff_holds", OFFICER | {STAFF["compliance"]}),
]
