"""Employers as plan sponsors (DIS-3) and premium bills for payment partners (DIS-4).

Every member's data shown to an employer, or sent to a payment partner, goes through the audited
accessor (haven.audit.access) with a purpose that opens only what that use needs:
`plan_sponsor` opens enrolment and administrative data (haven.audit.policy.PARTNER_POLICY), and a
premium bill is a disclosure of the `premiums` part alone, recorded by the privacy center
(haven.privacy.services.disclosure_record) in the member's accounting of disclosures.
"""

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from haven.accounts.models import User
from haven.audit import access
from haven.audit.policy import FIELDS, Purpose, Resource
from haven.employers.models import PaymentPartner, PremiumBill, SponsorContact
from haven.plans.models import EmployerGroup, Member
from haven.privacy.models import DisclosurePurpose, Recipient

# What an employer sees of each member of its group: who is enrolled, how, and since when.
SPONSOR_FIELDS = (
    "first_name",
    "last_name",
    "date_of_birth",
    "member_id",
    "relationship",
    "plan",
    "group",
    "coverage_start",
    "coverage_end",
)
SPONSOR_RESOURCES = (Resource.DEMOGRAPHICS, Resource.COVERAGE)
PAGE_SIZE = 50
LINKER_ROLES = (User.StaffRole.ADMINISTRATOR,)


# --- Employer accounts and their group -------------------------------------------------------


def sponsor_link(*, user: User, group: EmployerGroup, actor: User) -> SponsorContact:
    """An administrator links an employer's account to the group it sponsors (one group)."""
    if not actor.has_staff_role(*LINKER_ROLES):
        raise PermissionDenied
    if user.kind != User.Kind.EMPLOYER:
        raise ValidationError(
            _("Only employer accounts can be linked to a group."), code="not_employer"
        )
    contact, _created = SponsorContact.objects.update_or_create(
        user=user, defaults={"group": group, "linked_by": actor, "linked_at": timezone.now()}
    )
    return contact


def sponsor_of(user: User) -> SponsorContact | None:
    if not user.is_authenticated or user.kind != User.Kind.EMPLOYER:
        return None
    return SponsorContact.objects.select_related("group__plan").filter(user=user).first()


@dataclass
class Enrolled:
    member: Member
    values: dict
    permitted: access.Permitted


def _values(member: Member, permitted: access.Permitted) -> dict:
    values = permitted.pick(Resource.DEMOGRAPHICS, member)
    if "relationship" in values:
        values["relationship"] = member.get_relationship_display()
    coverage = {
        "plan": member.group.plan.name,
        "group": member.group.name,
        "coverage_start": member.coverage_start,
        "coverage_end": member.coverage_end,
    }
    values.update(permitted.pick(Resource.COVERAGE, coverage))
    return values


def sponsor_read(
    *,
    contact: SponsorContact,
    member: Member,
    resources=SPONSOR_RESOURCES,
    request: HttpRequest | None = None,
) -> Enrolled:
    """One member of the employer's group, read through the accessor for the plan sponsor's
    purpose. A member of another group is refused before anything is read; asking for claims,
    documents or any other part is refused by the accessor, and the refusal recorded (DIS-3)."""
    if member.group_id != contact.group_id:
        raise access.NotAuthorised(_("This person is not in your group."))
    resources = list(resources)
    fields = list(SPONSOR_FIELDS)
    if any(resource not in SPONSOR_RESOURCES for resource in resources):
        fields = None  # let the accessor see (and refuse) exactly what was asked
    permitted = access.read(
        member=member,
        resource=resources,
        fields=fields,
        purpose=Purpose.PLAN_SPONSOR,
        actor=contact.user,
        request=request,
        subtype="sponsor-view",
    )
    return Enrolled(member=member, values=_values(member, permitted), permitted=permitted)


def enrolment_page(
    *, contact: SponsorContact, page: str | int = 1, request: HttpRequest | None = None
) -> tuple[Page, list[Enrolled]]:
    """One page of the group's enrolment, subscribers with their dependants; each member shown
    is one read through the accessor (one audit record each)."""
    members = (
        Member.objects.filter(group=contact.group)
        .select_related("group__plan")
        .order_by("last_name", "first_name", "pk")
    )
    shown = Paginator(members, PAGE_SIZE).get_page(page)
    rows = [sponsor_read(contact=contact, member=member, request=request) for member in shown]
    return shown, rows


# --- Premium bills and payment partners (DIS-4) ------------------------------------------------

# A payment partner receives these parts of a member's record, and nothing else.
PAYMENT_PARTNER_RESOURCES = (Resource.PREMIUMS,)
PARTNER_COLUMNS = FIELDS[Resource.PREMIUMS]
BILL_COLUMNS = ("member_id", "period", "amount", "due_date")


class BillingError(ValueError):
    pass


def payment_partner_add(*, name: str, recipient: Recipient) -> PaymentPartner:
    """A payment partner must be in the privacy center's registry and allowed payment data."""
    if not recipient.active or DisclosurePurpose.PAYMENT not in recipient.purposes:
        raise BillingError(_("The registry does not allow this recipient payment data."))
    partner, _created = PaymentPartner.objects.update_or_create(
        name=name.strip(), defaults={"recipient": recipient}
    )
    return partner


def _first_of_month(value: str) -> date:
    day = date.fromisoformat(value.strip() + ("-01" if len(value.strip()) == 7 else ""))
    if day.day != 1:
        raise ValueError
    return day


def premium_bills_load(text: str) -> tuple[int, list[str]]:
    """Bills from the billing system's CSV (member_id, period YYYY-MM, amount, due_date):
    each row checked on its own, bad rows reported by line, good ones upserted by member and
    month; a bill already sent is not changed."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [column for column in BILL_COLUMNS if column not in (reader.fieldnames or [])]
    if missing:
        raise BillingError(f"missing columns: {', '.join(missing)}")
    members = {}
    problems, kept = [], 0
    for line, row in enumerate(reader, start=2):
        member_id = (row["member_id"] or "").strip()
        if member_id not in members:
            members[member_id] = Member.objects.filter(member_id=member_id).first()
        member = members[member_id]
        try:
            period = _first_of_month(row["period"])
        except ValueError:
            problems.append(f"line {line}: period is not a month (YYYY-MM)")
            continue
        try:
            amount = Decimal(row["amount"].strip())
            due_date = date.fromisoformat(row["due_date"].strip())
        except (InvalidOperation, ValueError, AttributeError):
            problems.append(f"line {line}: amount or due date cannot be read")
            continue
        if member is None:
            problems.append(f"line {line}: no member has this member ID")
            continue
        if amount < 0 or amount != amount.quantize(Decimal("0.01")):
            problems.append(f"line {line}: the amount is negative or has more than two decimals")
            continue
        with transaction.atomic():
            bill = PremiumBill.objects.select_for_update().filter(member=member, period=period)
            bill = bill.first()
            if bill is not None and bill.disclosure_id is not None:
                problems.append(f"line {line}: this bill was already sent; it is not changed")
                continue
            PremiumBill.objects.update_or_create(
                member=member, period=period, defaults={"amount": amount, "due_date": due_date}
            )
        kept += 1
    return kept, problems


def premium_bills_send(
    *,
    partner: PaymentPartner,
    due_by: date,
    actor: "access.Actor | User",
    request: HttpRequest | None = None,
) -> str:
    """The unsent bills due by a date, as the CSV file for the payment partner: member ID,
    amount and due date only. Each bill is a disclosure of the member's `premiums` part to the
    partner, through the privacy center's recorder, and the file holds only the fields the
    accessor opened."""
    from haven.privacy.services import disclosure_record

    bills = list(
        PremiumBill.objects.filter(disclosure__isnull=True, due_date__lte=due_by)
        .select_related("member")
        .order_by("due_date", "pk")
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(PARTNER_COLUMNS)
    for bill in bills:
        disclosure = disclosure_record(
            member=bill.member,
            recipient=partner.recipient,
            purpose=DisclosurePurpose.PAYMENT,
            resources=list(PAYMENT_PARTNER_RESOURCES),
            description=_("Premium bill for %(month)s: member ID, amount and due date")
            % {"month": formats.date_format(bill.period, "YEAR_MONTH_FORMAT")},
            actor=actor,
            request=request,
        )
        opened = disclosure.audit_event.entity.get(Resource.PREMIUMS, [])
        values = {
            "member_id": bill.member.member_id,
            "amount": f"{bill.amount:.2f}",
            "due_date": bill.due_date.isoformat(),
        }
        writer.writerow([values[name] if name in opened else "" for name in PARTNER_COLUMNS])
        PremiumBill.objects.filter(pk=bill.pk, disclosure__isnull=True).update(
            partner=partner, disclosure=disclosure
        )
    return out.getvalue()
