"""Grants: inviting a caregiver, accepting, renewing, revoking, guardians of minors (ACC-8, ACC-9).

Other apps ask `grant_for` whether a user may act for a member within a scope, and
`acting_member` whose record a request is acting on.
"""

import hashlib
import secrets
from datetime import date, datetime, timedelta

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from haven.accounts.models import User
from haven.caregivers.models import Grant, Scope, start_of_day
from haven.plans.models import Member
from haven.support.services import MEMBER_SERVICES_ROLES, member_blocked

# Accounts that can hold a grant; staff, producers, providers and employers never do.
GRANT_HOLDER_KINDS = (User.Kind.MEMBER, User.Kind.CAREGIVER, User.Kind.CONSUMER)
GUARDIAN_KINDS = (User.Kind.MEMBER, User.Kind.CAREGIVER)
ADULT_AGE = 18


def grant_for(
    user: User, member: Member, scope: str, *, at: datetime | None = None
) -> Grant | None:
    """The current grant that lets `user` act for `member` within `scope`, or None.

    One's own record needs no grant. Grants on a member whose online access is blocked
    open nothing (ACC-7).
    """
    if not user.is_authenticated or user.kind not in GRANT_HOLDER_KINDS:
        return None
    candidates = Grant.objects.current(at).filter(grantee=user, member=member)
    grant = next((grant for grant in candidates if scope in grant.scopes), None)
    if grant is None or member_blocked(member):
        return None
    return grant


def acting_member(request: HttpRequest) -> Member | None:
    """The member whose record the request acts on: the one chosen through a grant, or one's own."""
    if getattr(request, "acting_for", None) is not None:
        return request.acting_for
    user = request.user
    if user.is_authenticated and user.member_id is not None:
        return user.member
    return None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_scopes(scopes: list[str]) -> list[str]:
    chosen = [scope for scope in Scope.values if scope in scopes]
    if not chosen or len(chosen) != len(set(scopes)):
        raise ValidationError(_("Choose at least one part of your record."), code="scopes")
    return chosen


def _check_last_day(last_day: date, now: datetime) -> datetime:
    if last_day < timezone.localdate(now):
        raise ValidationError(_("The last day cannot be in the past."), code="past")
    if last_day > Grant.last_day_limit(now):
        raise ValidationError(
            _("Access can be given for 18 months at most; choose %(day)s or earlier.")
            % {"day": Grant.last_day_limit(now).isoformat()},
            code="too_long",
        )
    return start_of_day(last_day + timedelta(days=1))


@transaction.atomic
def caregiver_invitation_create(
    *, invited_name: str, scopes: list[str], last_day: date, actor: User
) -> tuple[Grant, str]:
    """A member invites a caregiver to their own record; returns the grant and its one-time token."""
    if actor.kind != User.Kind.MEMBER or actor.member_id is None:
        raise PermissionDenied
    now = timezone.now()
    token = secrets.token_urlsafe(32)
    grant = Grant.objects.create(
        member=actor.member,
        kind=Grant.Kind.CAREGIVER,
        scopes=_check_scopes(scopes),
        starts_at=now,
        expires_at=_check_last_day(last_day, now),
        invitation_token_hash=token_hash(token),
        invited_name=invited_name.strip(),
        created_by=actor,
        created_at=now,
    )
    return grant, token


def invitation_for_token(token: str, *, at: datetime | None = None) -> Grant | None:
    """The pending invitation this token opens, or None if it was used, revoked or has expired."""
    if not token:
        return None
    grant = (
        Grant.objects.filter(invitation_token_hash=token_hash(token), accepted_at__isnull=True)
        .select_related("member", "created_by")
        .first()
    )
    if grant is None or grant.status_at(at) != Grant.Status.PENDING:
        return None
    return grant


def refusal_to_accept(grant: Grant, user: User) -> str | None:
    """Why this user cannot accept this invitation, or None if they can."""
    if user.kind not in GRANT_HOLDER_KINDS:
        return _(
            "This kind of account cannot act for a member. Sign out, then sign in with "
            "or create a caregiver account."
        )
    if grant.created_by_id == user.pk or (user.member_id and user.member_id == grant.member_id):
        return _("You cannot accept your own invitation. Pass the link to your caregiver.")
    if Grant.objects.current().filter(member=grant.member, grantee=user).exists():
        return _(
            "You already act for this person. Ask them to revoke that access first if they "
            "want to change it."
        )
    if member_blocked(grant.member):
        return _("This invitation cannot be used now. Ask the person who invited you.")
    return None


@transaction.atomic
def caregiver_invitation_accept(*, token: str, actor: User, at: datetime | None = None) -> Grant:
    """The caregiver accepts: the grant becomes theirs and the link stops working (single use)."""
    grant = invitation_for_token(token, at=at)
    if grant is None:
        raise ValidationError(_("This invitation link is no longer valid."), code="invalid")
    grant = Grant.objects.select_for_update().get(pk=grant.pk)
    if grant.accepted_at is not None:
        raise ValidationError(_("This invitation link is no longer valid."), code="invalid")
    refusal = refusal_to_accept(grant, actor)
    if refusal:
        raise ValidationError(refusal, code="refused")
    grant.grantee = actor
    grant.accepted_at = at or timezone.now()
    grant.invitation_token_hash = ""  # nosec B105  # the used invitation's hash is cleared
    grant.save(update_fields=["grantee", "accepted_at", "invitation_token_hash"])
    return grant


@transaction.atomic
def caregiver_account_create(
    *, token: str, username: str, password: str, first_name: str, last_name: str, email: str
) -> tuple[User, Grant]:
    """Someone invited without an account creates a caregiver account and accepts in one step."""
    if invitation_for_token(token) is None:
        raise ValidationError(_("This invitation link is no longer valid."), code="invalid")
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError(_("That username is taken. Choose another."), code="username")
    user = User(
        username=username,
        kind=User.Kind.CAREGIVER,
        first_name=first_name,
        last_name=last_name,
        email=email,
    )
    validate_password(password, user)
    user.set_password(password)
    user.password_changed_at = timezone.now()
    user.full_clean(exclude=["password"])
    user.save()
    grant = caregiver_invitation_accept(token=token, actor=user)
    return user, grant


def _owns_grant(grant: Grant, actor: User) -> bool:
    return actor.member_id is not None and actor.member_id == grant.member_id


@transaction.atomic
def grant_revoke(*, grant: Grant, actor: User, note: str = "") -> Grant:
    """End a grant at once: by the member, by a caregiver giving it up, or by member services.

    The acting-for middleware honours current grants only, so acting ends at the next request.
    """
    grant = Grant.objects.select_for_update().get(pk=grant.pk)
    gives_up = grant.kind == Grant.Kind.CAREGIVER and grant.grantee_id == actor.pk
    by_staff = actor.has_staff_role(*MEMBER_SERVICES_ROLES)
    owner_may = grant.kind == Grant.Kind.CAREGIVER and _owns_grant(grant, actor)
    if not (owner_may or gives_up or by_staff):
        raise PermissionDenied
    if grant.revoked_at is not None:
        return grant
    if by_staff and not note.strip():
        raise ValidationError(_("Write down why the grant ends."), code="note")
    grant.revoked_at = timezone.now()
    grant.revoked_by = actor
    grant.revocation_note = note.strip()
    grant.invitation_token_hash = ""  # nosec B105  # the used invitation's hash is cleared
    grant.save(
        update_fields=["revoked_at", "revoked_by", "revocation_note", "invitation_token_hash"]
    )
    return grant


@transaction.atomic
def grant_renew(*, grant: Grant, last_day: date, actor: User) -> Grant:
    """The member gives a current or expired caregiver grant another period (18 months at most)."""
    grant = Grant.objects.select_for_update().get(pk=grant.pk)
    if grant.kind != Grant.Kind.CAREGIVER or not _owns_grant(grant, actor):
        raise PermissionDenied
    if grant.status not in (Grant.Status.CURRENT, Grant.Status.EXPIRED):
        raise ValidationError(
            _("Only current or expired access can be renewed."), code="not_renewable"
        )
    now = timezone.now()
    grant.expires_at = _check_last_day(last_day, now)
    grant.renewed_at = now
    grant.save(update_fields=["expires_at", "renewed_at"])
    return grant


def guardian_expiry(minor: Member) -> datetime:
    """A guardian grant ends at the start of the minor's 18th birthday, in the current time zone."""
    return start_of_day(minor.birthday_of_age(ADULT_AGE))


@transaction.atomic
def guardian_grant_create(
    *, minor: Member, guardian: User, note: str, actor: User, now: datetime | None = None
) -> Grant:
    """Member services record a parent or guardian of a minor, after checking documents (ACC-8)."""
    if not actor.has_staff_role(*MEMBER_SERVICES_ROLES):
        raise PermissionDenied
    now = now or timezone.now()
    today = timezone.localdate(now)
    if minor.age_on(today) >= ADULT_AGE:
        raise ValidationError(
            _("This member is an adult; a guardian grant is only for minors."), code="adult"
        )
    if guardian.kind not in GUARDIAN_KINDS:
        raise ValidationError(
            _("A parent or guardian needs a member or caregiver account."), code="kind"
        )
    if guardian.member_id is not None and guardian.member.age_on(today) < ADULT_AGE:
        raise ValidationError(_("A parent or guardian must be an adult."), code="minor_guardian")
    if Grant.objects.current(now).filter(member=minor, grantee=guardian).exists():
        raise ValidationError(_("This account already acts for this member."), code="duplicate")
    if not note.strip():
        raise ValidationError(_("Write down which documents you checked."), code="note")
    return Grant.objects.create(
        member=minor,
        grantee=guardian,
        kind=Grant.Kind.GUARDIAN,
        scopes=list(Scope.values),
        starts_at=now,
        expires_at=guardian_expiry(minor),
        accepted_at=now,
        verification_note=note.strip(),
        created_by=actor,
        created_at=now,
    )
