"""The one audited way to a member's data (AUD-1, AUD-2, AUD-3, AUD-5, AUD-7).

Views, exports, the API and tasks ask here before they show, send or change anything of a
member's. Each call checks the policy table (haven.audit.policy) for the actor and purpose, the
actor's privacy training and any declared emergency, writes exactly one audit record (allowed or
denied), and returns only the parts and fields the actor may have, or raises `AccessDenied`
whose message can be shown to the person asking.

    permitted = access.read(actor=request.user, request=request, member=member,
                            resource=[Resource.CONTACT, Resource.CLAIMS], purpose="payment")
    permitted.pick(Resource.CONTACT, member)            # only the allowed fields

    with access.change(actor=request.user, request=request, member=member,
                       resource=Resource.DOCUMENTS, action=Action.CREATE, purpose="treatment") as c:
        document = HealthDocument.objects.create(...)
        c.record_id = document.pk                       # recorded in the same transaction

Reads and refusals are recorded in a transaction of their own (durable): call the accessor
outside other transactions, so a refusal is never rolled back with the caller's work. A change
runs inside the transaction `change()` opens, together with its audit record.
"""

import ipaddress
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from haven.accounts.models import User
from haven.audit import chain
from haven.audit.flags import flags_for
from haven.audit.models import (
    ACCOUNT_CHANGES,
    Action,
    AuditEvent,
    BreakGlass,
    EventType,
    Outcome,
    TrainingAttestation,
)
from haven.audit.policy import (
    FIELDS,
    PARTNER_POLICY,
    SELF,
    STAFF_POLICY,
    SYSTEM_POLICY,
    Permit,
    Purpose,
    Resource,
    Sensitivity,
    is_sensitive,
    may_break_glass,
    proxy_permit,
    scopes_for,
)
from haven.caregivers.models import Grant
from haven.plans.models import Member

BREAK_GLASS_REASON_MIN_LENGTH = 30
SEARCH_FIELDS = ("first_name", "last_name", "date_of_birth", "member_id")


# Who asks -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """Who is asking, and from where: a signed-in user with their request, or a system task."""

    user: User | None = None
    system: str = ""
    ip_address: str = ""
    user_agent: str = ""
    source: str = ""

    @classmethod
    def from_request(cls, request: HttpRequest, user: User | None = None) -> "Actor":
        match = getattr(request, "resolver_match", None)
        return cls(
            user=user or request.user,
            ip_address=_clean_ip(request.META.get("REMOTE_ADDR", "")),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
            source=match.view_name if match else request.path[:200],
        )

    @property
    def is_staff(self) -> bool:
        return self.user is not None and self.user.is_staff_member


def system(name: str) -> Actor:
    """The actor for a background task or command, named after it."""
    return Actor(system=name, source=f"task:{name}")


def _clean_ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return ""


def _actor(actor: "Actor | User | None", request: HttpRequest | None) -> Actor:
    if isinstance(actor, Actor):
        return actor
    if request is not None:
        return Actor.from_request(request, user=actor)
    if isinstance(actor, User):
        return Actor(user=actor)
    raise ValueError("the accessor needs an actor: request.user with the request, or system()")


# Refusals -----------------------------------------------------------------------------------


class AccessDenied(PermissionDenied):
    """Refused; `message` tells the person why, and `event` is the audit record of the refusal."""

    reason = "not_permitted"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
        self.event: AuditEvent | None = None


class TrainingRequired(AccessDenied):
    reason = "training"


class PurposeRequired(AccessDenied):
    reason = "no_purpose"


class NotPermitted(AccessDenied):
    reason = "not_permitted"


class SensitiveCategory(AccessDenied):
    reason = "sensitive"


class EmergencyNotDeclared(AccessDenied):
    reason = "no_emergency"


class NotAuthorised(AccessDenied):
    reason = "no_grant"


# What is given ------------------------------------------------------------------------------


@dataclass
class Permitted:
    """The parts and fields an access opened, and its audit record."""

    purpose: str
    fields: dict[str, tuple[str, ...]]
    withheld: tuple[str, ...] = ()
    sensitive: frozenset[str] = frozenset()
    grant: Grant | None = None
    break_glass: BreakGlass | None = None
    event: AuditEvent | None = None
    record_id: str = ""

    def allows(self, resource: str) -> bool:
        return resource in self.fields

    def allows_category(self, category: str) -> bool:
        return not is_sensitive(category) or category in self.sensitive

    def pick(self, resource: str, source: Mapping[str, Any] | object) -> dict[str, Any]:
        """Only the allowed fields of `resource` from a mapping or an object's attributes."""
        names = self.fields.get(resource, ())
        if isinstance(source, Mapping):
            return {name: source[name] for name in names if name in source}
        return {name: getattr(source, name) for name in names if hasattr(source, name)}


@dataclass
class _Decision:
    purpose: str
    permit: Permit | None = None
    error: AccessDenied | None = None
    grant: Grant | None = None
    break_glass: BreakGlass | None = None
    fields: dict[str, tuple[str, ...]] = field(default_factory=dict)
    withheld: tuple[str, ...] = ()


# Training (AUD-5) ---------------------------------------------------------------------------


def current_training(user: User, at: datetime | None = None) -> TrainingAttestation | None:
    return TrainingAttestation.objects.current(at).filter(staff=user).first()


def training_problem(user: User, at: datetime | None = None) -> str | None:
    """Why a staff member may not open member records for lack of training, or None."""
    if current_training(user, at) is not None:
        return None
    latest = TrainingAttestation.objects.filter(staff=user, completed_at__lte=at or timezone.now())
    latest = latest.order_by("-expires_at").first()
    if latest is None:
        return _(
            "No privacy training is on record for you, so you cannot open members' records. "
            "Ask compliance to record your training."
        )
    return _(
        "Your privacy training expired on %(date)s, so you cannot open members' records. "
        "Complete the course again and ask compliance to record it."
    ) % {"date": formats.date_format(timezone.localdate(latest.expires_at))}


# Break-glass (AUD-7) ------------------------------------------------------------------------


def break_glass_minutes() -> int:
    return getattr(settings, "HAVEN_BREAK_GLASS_MINUTES", 60)


def current_break_glass(
    user: User, member: Member, at: datetime | None = None
) -> BreakGlass | None:
    at = at or timezone.now()
    return (
        BreakGlass.objects.filter(staff=user, member=member, declared_at__lte=at, expires_at__gt=at)
        .order_by("-expires_at")
        .first()
    )


# Deciding -----------------------------------------------------------------------------------


def _requested_fields(
    resources: Sequence[str], fields: Iterable[str] | None
) -> dict[str, tuple[str, ...]]:
    wanted = None if fields is None else set(fields)
    return {
        resource: tuple(name for name in FIELDS[resource] if wanted is None or name in wanted)
        for resource in resources
    }


def _staff_permit(who: Actor, member: Member | None, purpose: str | None, decision: _Decision):
    user = who.user
    problem = training_problem(user)
    if problem:
        decision.error = TrainingRequired(problem)
        return
    if not purpose:
        decision.error = PurposeRequired(_("Choose why you are opening this record."))
        return
    permit = STAFF_POLICY.get(user.staff_role, {}).get(purpose)
    if permit is None:
        decision.error = NotPermitted(
            _("Your role (%(role)s) does not open members' records for %(purpose)s.")
            % {
                "role": user.get_staff_role_display(),
                "purpose": _purpose_label(purpose),
            }
        )
        return
    if purpose == Purpose.EMERGENCY:
        decision.break_glass = member and current_break_glass(user, member)
        if decision.break_glass is None:
            decision.error = EmergencyNotDeclared(
                _(
                    "Emergency access needs a declared emergency with a written reason; "
                    "it lasts %(minutes)s minutes."
                )
                % {"minutes": break_glass_minutes()}
            )
            return
    decision.permit = permit


def _member_or_proxy_permit(
    who: Actor, member: Member | None, resources: Sequence[str], decision: _Decision
):
    user = who.user
    if member is not None and user.member_id == member.pk:
        decision.purpose = Purpose.SELF
        decision.permit = SELF
        return
    decision.purpose = Purpose.PROXY
    scopes = []
    for resource in resources:
        for scope in scopes_for(resource):
            grant = member and _grant_for(user, member, scope)
            if grant is not None:
                scopes.append(scope)
                decision.grant = decision.grant or grant
    if decision.grant is None:
        decision.error = NotAuthorised(
            _("You are not authorised to see this part of this person's record.")
        )
        return
    decision.permit = proxy_permit(scopes)


def _partner_permit(
    who: Actor, member: Member | None, purpose: str | None, record_id: str, decision: _Decision
):
    """A producer, employer or practice opens its one purpose's fields, and only while the
    relationship with the member holds: checked here too, not only by its portal."""
    user = who.user
    own, permit = PARTNER_POLICY[user.kind]
    if purpose != own:
        decision.error = NotPermitted(
            _("Your account opens members' records only for %(purpose)s.")
            % {"purpose": _purpose_label(own)}
        )
        return
    if member is None or not _partner_relationship(user, member, record_id):
        decision.error = NotAuthorised(
            _("Nothing links you to this person now, so their record does not open to you.")
        )
        return
    decision.permit = permit


def _partner_relationship(user: User, member: Member, record_id: str) -> bool:
    """A current authorisation of an approved producer; the employer's own group; an
    appointment of the member with the practice (the record read is that appointment)."""
    # Imported here: these apps read through this module themselves.
    if user.kind == User.Kind.PRODUCER:
        from haven.producers.models import Authorisation, Producer

        return (
            Authorisation.objects.current()
            .filter(member=member, producer__user=user, producer__status=Producer.Status.APPROVED)
            .exists()
        )
    if user.kind == User.Kind.EMPLOYER:
        from haven.employers.models import SponsorContact

        return SponsorContact.objects.filter(user=user, group_id=member.group_id).exists()
    from haven.care.models import Appointment

    return (
        str(record_id).isdigit()
        and Appointment.objects.filter(
            pk=int(record_id), member=member, practitioner__accounts__user=user
        ).exists()
    )


def _grant_for(user: User, member: Member, scope: str) -> Grant | None:
    # Imported here: caregivers' services may one day audit through this module themselves.
    from haven.caregivers.services import grant_for

    return grant_for(user, member, scope)


def _purpose_label(purpose: str) -> str:
    try:
        return str(Purpose(purpose).label).lower()
    except ValueError:
        return purpose


def _decide(
    who: Actor,
    member: Member | None,
    resources: Sequence[str],
    fields: Iterable[str] | None,
    purpose: str | None,
    category: str,
    changing: bool,
    record_id: str = "",
) -> _Decision:
    decision = _Decision(purpose=purpose or "")
    if purpose and purpose not in Purpose.values:
        decision.error = PurposeRequired(_("Choose one of the purposes offered."))
        return decision
    if who.user is None:
        decision.permit = SYSTEM_POLICY.get(purpose or "")
        if decision.permit is None:
            decision.error = NotPermitted(
                _("This task may not use members' data for that purpose.")
            )
    elif who.is_staff:
        _staff_permit(who, member, purpose, decision)
    elif who.user.kind in (User.Kind.MEMBER, User.Kind.CAREGIVER, User.Kind.CONSUMER):
        _member_or_proxy_permit(who, member, resources, decision)
    elif who.user.kind in PARTNER_POLICY:
        _partner_permit(who, member, purpose, str(record_id or ""), decision)
    else:
        decision.error = NotPermitted(_("Your account does not open members' records."))
    if decision.error:
        return decision

    permit = decision.permit
    requested = _requested_fields(resources, fields)
    opened = {}
    for resource, names in requested.items():
        if changing and resource not in permit.change:
            continue
        allowed = set(permit.fields(resource))
        given = tuple(name for name in names if name in allowed)
        if given and (not changing or len(given) == len(names)):
            opened[resource] = given
    if not opened:
        decision.error = NotPermitted(
            _("%(parts)s: not open to you for %(purpose)s.")
            % {
                "parts": ", ".join(str(Resource(resource).label) for resource in resources),
                "purpose": _purpose_label(decision.purpose),
            }
        )
        return decision
    if category and is_sensitive(category) and category not in permit.sensitive:
        decision.error = SensitiveCategory(
            _(
                "This is in a protected category (%(category)s) that is not open to you "
                "for %(purpose)s."
            )
            % {
                "category": str(Sensitivity(category).label).lower(),
                "purpose": _purpose_label(decision.purpose),
            }
        )
        return decision
    decision.fields = opened
    decision.withheld = tuple(resource for resource in resources if resource not in opened)
    return decision


# Recording ----------------------------------------------------------------------------------


def audit_enabled() -> bool:
    """Auditing is always on; only the overhead benchmark turns it off, never in production."""
    enabled = getattr(settings, "HAVEN_AUDIT_ENABLED", True)
    if not enabled and settings.PRODUCTION:
        raise ImproperlyConfigured("HAVEN_AUDIT_ENABLED cannot be turned off in production")
    return enabled


def _record(
    who: Actor,
    decision: _Decision,
    *,
    member: Member | None,
    requested: dict[str, tuple[str, ...]],
    type: str,
    subtype: str,
    action: str,
    record_id: str = "",
    category: str = "",
    recipient: str = "",
    note: str = "",
) -> AuditEvent | None:
    if not audit_enabled():
        return None
    at = timezone.now()
    allowed = decision.error is None
    user = who.user
    event = AuditEvent(
        recorded_at=at,
        type=type,
        subtype=subtype,
        action=action,
        outcome=Outcome.ALLOWED if allowed else Outcome.DENIED,
        reason="" if allowed else decision.error.reason,
        purpose=decision.purpose,
        actor=user,
        actor_label=(f"{user.get_full_name()} ({user.username})".strip() if user else ""),
        actor_kind=user.kind if user else "",
        actor_role=user.staff_role if user else "",
        system_actor=who.system,
        grant=decision.grant,
        break_glass=decision.break_glass,
        member=member,
        entity={r: list(f) for r, f in (decision.fields if allowed else requested).items()},
        withheld=list(decision.withheld),
        record_id=str(record_id or ""),
        category=category,
        recipient=recipient,
        note=note,
        source=who.source,
        ip_address=who.ip_address,
        user_agent=who.user_agent,
        flags=(
            flags_for(staff=user, member=member, purpose=decision.purpose, allowed=allowed, at=at)
            if who.is_staff
            else []
        ),
    )
    return chain.append(event)


def _raise_refusal(decision: _Decision, event: AuditEvent | None) -> None:
    """A refused decision is raised once its audit record is written, with the record attached."""
    if decision.error:
        decision.error.event = event
        raise decision.error


def _permitted(decision: _Decision, event: AuditEvent | None, record_id="") -> Permitted:
    return Permitted(
        purpose=decision.purpose,
        fields=decision.fields,
        withheld=decision.withheld,
        sensitive=decision.permit.sensitive if decision.permit else frozenset(),
        grant=decision.grant,
        break_glass=decision.break_glass,
        event=event,
        record_id=str(record_id or ""),
    )


def _as_list(resource: str | Iterable[str]) -> list[str]:
    resources = [resource] if isinstance(resource, str) else list(resource)
    for name in resources:
        if name not in FIELDS:
            raise ValueError(f"unknown resource {name!r}: add it to haven.audit.policy")
    return resources


def _access(
    *,
    type: str,
    subtype: str,
    member: Member | None,
    resource: str | Iterable[str],
    purpose: str | None,
    fields: Iterable[str] | None,
    record_id: str | int,
    category: str,
    recipient: str,
    actor: "Actor | User | None",
    request: HttpRequest | None,
) -> Permitted:
    who = _actor(actor, request)
    resources = _as_list(resource)
    fields = None if fields is None else tuple(fields)
    decision = _decide(
        who, member, resources, fields, purpose, category, changing=False, record_id=str(record_id)
    )
    with transaction.atomic(durable=True):
        event = _record(
            who,
            decision,
            member=member,
            requested=_requested_fields(resources, fields),
            type=type,
            subtype=subtype,
            action=Action.READ,
            record_id=str(record_id or ""),
            category=category,
            recipient=recipient,
        )
    _raise_refusal(decision, event)
    return _permitted(decision, event, record_id)


# The API ------------------------------------------------------------------------------------


def read(
    *,
    member: Member,
    resource: str | Iterable[str],
    purpose: str | None = None,
    fields: Iterable[str] | None = None,
    record_id: str | int = "",
    category: str = "",
    actor: "Actor | User | None" = None,
    request: HttpRequest | None = None,
    subtype: str = "read",
) -> Permitted:
    """Open parts of a member's record to show them. One page asking for several parts makes one
    record; `category` is the sensitive category of the one record read, if any. Members and
    caregivers need no purpose (their own request; acting for the member)."""
    return _access(
        type=EventType.ACCESS,
        subtype=subtype,
        member=member,
        resource=resource,
        purpose=purpose,
        fields=fields,
        record_id=record_id,
        category=category,
        recipient="",
        actor=actor,
        request=request,
    )


def export(
    *,
    member: Member,
    resource: str | Iterable[str],
    purpose: str | None = None,
    fields: Iterable[str] | None = None,
    record_id: str | int = "",
    category: str = "",
    recipient: str = "",
    actor: "Actor | User | None" = None,
    request: HttpRequest | None = None,
) -> Permitted:
    """Open parts of a member's record to leave Haven as a file or through the API."""
    return _access(
        type=EventType.EXPORT,
        subtype="export",
        member=member,
        resource=resource,
        purpose=purpose,
        fields=fields,
        record_id=record_id,
        category=category,
        recipient=recipient,
        actor=actor,
        request=request,
    )


def disclose(
    *,
    member: Member,
    resource: str | Iterable[str],
    recipient: str,
    purpose: str | None = None,
    fields: Iterable[str] | None = None,
    record_id: str | int = "",
    category: str = "",
    actor: "Actor | User | None" = None,
    request: HttpRequest | None = None,
) -> Permitted:
    """Open parts of a member's record to give them to someone outside Haven (an accounting of
    disclosures lists these)."""
    if not recipient.strip():
        raise ValueError("a disclosure names its recipient")
    return _access(
        type=EventType.DISCLOSURE,
        subtype="disclose",
        member=member,
        resource=resource,
        purpose=purpose,
        fields=fields,
        record_id=record_id,
        category=category,
        recipient=recipient.strip()[:200],
        actor=actor,
        request=request,
    )


def disclose_own_account(
    *,
    account: User,
    resource: str | Iterable[str],
    recipient: str,
    actor: "Actor | User | None" = None,
    request: HttpRequest | None = None,
) -> Permitted:
    """Someone with no roster entry (a consumer) gives their own account's details to someone
    outside Haven at their own request: a disclosure with the account as the record, so their
    accounting of disclosures lists it. Only the account's owner may."""
    if not recipient.strip():
        raise ValueError("a disclosure names its recipient")
    who = _actor(actor, request)
    resources = _as_list(resource)
    requested = _requested_fields(resources, None)
    decision = _Decision(purpose=Purpose.SELF)
    if who.user is None or who.user.pk != account.pk or account.member_id is not None:
        decision.error = NotAuthorised(
            _("Only the owner of an account without a plan membership shares its details so.")
        )
    else:
        decision.permit, decision.fields = SELF, requested
    record_id = f"user:{account.pk}"
    with transaction.atomic(durable=True):
        event = _record(
            who,
            decision,
            member=None,
            requested=requested,
            type=EventType.DISCLOSURE,
            subtype="disclose",
            action=Action.READ,
            record_id=record_id,
            recipient=recipient.strip()[:200],
        )
    _raise_refusal(decision, event)
    return _permitted(decision, event, record_id)


@contextmanager
def change(
    *,
    member: Member,
    resource: str | Iterable[str],
    purpose: str | None = None,
    fields: Iterable[str] | None = None,
    action: str = Action.UPDATE,
    record_id: str | int = "",
    category: str = "",
    actor: "Actor | User | None" = None,
    request: HttpRequest | None = None,
) -> Iterator[Permitted]:
    """A transaction in which the caller changes a member's data; its audit record is written in
    the same transaction when the block ends. Refused changes are recorded and raise at once."""
    if action not in (Action.CREATE, Action.UPDATE, Action.DELETE):
        raise ValueError("a change creates, updates or deletes")
    who = _actor(actor, request)
    resources = _as_list(resource)
    fields = None if fields is None else tuple(fields)
    decision = _decide(who, member, resources, fields, purpose, category, changing=True)
    requested = _requested_fields(resources, fields)
    subtype = {Action.CREATE: "create", Action.UPDATE: "update", Action.DELETE: "delete"}[action]
    if decision.error:
        with transaction.atomic(durable=True):
            decision.error.event = _record(
                who,
                decision,
                member=member,
                requested=requested,
                type=EventType.ACCESS,
                subtype=subtype,
                action=action,
                record_id=str(record_id or ""),
                category=category,
            )
        raise decision.error
    with transaction.atomic(durable=True):
        permitted = _permitted(decision, None, record_id)
        yield permitted
        permitted.event = _record(
            who,
            decision,
            member=member,
            requested=requested,
            type=EventType.ACCESS,
            subtype=subtype,
            action=action,
            record_id=permitted.record_id,
            category=category,
        )


def search(
    *,
    members: Sequence[Member],
    purpose: str | None,
    actor: "Actor | User | None" = None,
    request: HttpRequest | None = None,
) -> dict[int, Permitted]:
    """A staff roster search: one record per member shown (their name and birth date were seen),
    or one refusal. Returns what may be shown of each member, by primary key."""
    who = _actor(actor, request)
    resources = [Resource.DEMOGRAPHICS]
    probe = _decide(who, None, resources, SEARCH_FIELDS, purpose, "", changing=False)
    if purpose == Purpose.EMERGENCY and not probe.error:
        probe.error = PurposeRequired(
            _("Search under your usual purpose, then declare an emergency for one member.")
        )
    requested = _requested_fields(resources, SEARCH_FIELDS)
    shown: dict[int, Permitted] = {}
    with transaction.atomic(durable=True):
        if probe.error:
            probe.error.event = _record(
                who,
                probe,
                member=None,
                requested=requested,
                type=EventType.QUERY,
                subtype="search",
                action=Action.EXECUTE,
            )
        else:
            # A staff permit does not depend on the member (emergencies are excluded above).
            for member in members:
                event = _record(
                    who,
                    probe,
                    member=member,
                    requested=requested,
                    type=EventType.QUERY,
                    subtype="search",
                    action=Action.EXECUTE,
                )
                shown[member.pk] = _permitted(probe, event)
    if probe.error:
        raise probe.error
    return shown


def declare_emergency(
    *,
    member: Member,
    reason: str,
    actor: "Actor | User | None" = None,
    request: HttpRequest | None = None,
) -> BreakGlass:
    """Break-glass: a written reason opens the member's record for a limited time, flagged for
    the privacy officer's review (AUD-7)."""
    who = _actor(actor, request)
    reason = " ".join(reason.split())
    if len(reason) < BREAK_GLASS_REASON_MIN_LENGTH:
        raise ValidationError(
            _("Describe the emergency in at least %(count)s characters.")
            % {"count": BREAK_GLASS_REASON_MIN_LENGTH},
            code="too_short",
        )
    decision = _Decision(purpose=Purpose.EMERGENCY)
    if not who.is_staff:
        decision.error = NotPermitted(_("Only staff can declare an emergency."))
    else:
        problem = training_problem(who.user)
        if problem:
            decision.error = TrainingRequired(problem)
        elif not may_break_glass(who.user.staff_role):
            decision.error = NotPermitted(
                _("Your role (%(role)s) cannot declare emergency access.")
                % {"role": who.user.get_staff_role_display()}
            )
    requested = {Resource.DEMOGRAPHICS: ()}
    with transaction.atomic(durable=True):
        if decision.error is None:
            now = timezone.now()
            decision.break_glass = BreakGlass.objects.create(
                staff=who.user,
                member=member,
                reason=reason,
                declared_at=now,
                expires_at=now + timedelta(minutes=break_glass_minutes()),
            )
        event = _record(
            who,
            decision,
            member=member,
            requested=requested,
            type=EventType.EMERGENCY,
            subtype="declare",
            action=Action.EXECUTE,
            note=reason,
        )
    _raise_refusal(decision, event)
    return decision.break_glass


def trail_used(
    *,
    subtype: str = "search",
    member: Member | None = None,
    record_id: str | int = "",
    actor: "Actor | User | None" = None,
    request: HttpRequest | None = None,
) -> Permitted:
    """The privacy officer or compliance looks at (or exports) the audit trail itself."""
    who = _actor(actor, request)
    decision = _decide(who, member, [Resource.AUDIT_TRAIL], None, Purpose.OVERSIGHT, "", False)
    with transaction.atomic(durable=True):
        event = _record(
            who,
            decision,
            member=member,
            requested=_requested_fields([Resource.AUDIT_TRAIL], None),
            type=EventType.TRAIL,
            subtype=subtype,
            action=Action.READ,
            record_id=str(record_id or ""),
        )
    _raise_refusal(decision, event)
    return _permitted(decision, event, record_id)


def account_changed(
    *,
    subject: User,
    subtype: str,
    note: str = "",
    actor: "Actor | User | None" = None,
    request: HttpRequest | None = None,
) -> AuditEvent | None:
    """A change to how an account signs in (a staff second factor re-enrolled or reset, an
    account closed), recorded in the trail with the account as the record. No member's data is
    involved; call it inside the transaction of the change, like `change()`."""
    if subtype not in ACCOUNT_CHANGES:
        raise ValueError(f"unknown account change {subtype!r}")
    part, fields = ACCOUNT_CHANGES[subtype]
    who = _actor(actor, request)
    decision = _Decision(purpose="", fields={part: fields})
    return _record(
        who,
        decision,
        member=None,
        requested={},
        type=EventType.ACCESS,
        subtype=subtype,
        action=Action.UPDATE,
        record_id=f"user:{subject.pk}",
        note=note,
    )


def history_for(
    member: Member | None = None, *, account: User | None = None, disclosures_only: bool = False
) -> QuerySet[AuditEvent]:
    """Who saw, changed or received the member's data (or, for an account with no roster entry,
    the account's), when and why: one query, newest first."""
    if member is not None:
        events = AuditEvent.objects.filter(member=member, outcome=Outcome.ALLOWED)
    else:
        events = AuditEvent.objects.filter(
            member__isnull=True, record_id=f"user:{account.pk}", outcome=Outcome.ALLOWED
        )
    if disclosures_only:
        events = events.filter(type=EventType.DISCLOSURE)
    return events.select_related("actor").order_by("-sequence")


def purposes_for(user: User, *, with_emergency: bool = False) -> list[tuple[str, str]]:
    """The purposes a staff member may state, as form choices."""
    return [
        (purpose, str(Purpose(purpose).label))
        for purpose in STAFF_POLICY.get(user.staff_role, {})
        if with_emergency or purpose != Purpose.EMERGENCY
    ]
