"""Writes and rules about accounts that span models: registration, passwords, profile edits."""

import unicodedata
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from haven.accounts.models import ConsumerProfile, User
from haven.accounts.sessions import end_sessions
from haven.audit import access
from haven.plans.models import Member
from haven.support.services import MEMBER_SERVICES_ROLES, blocks_covering

# COPPA: no account at all under 13; under 18 only through a parent or guardian (ACC-8).
MINIMUM_AGE = 13
ADULT_AGE = 18


class RegistrationRefused(Exception):
    """A member registration that cannot go ahead; `reason` is one of the constants below."""

    NO_MATCH = "no_match"
    UNDER_13 = "under_13"
    MINOR = "minor"
    COVERAGE_ENDED = "coverage_ended"
    ALREADY_REGISTERED = "already_registered"
    CLOSED = "closed"
    BLOCKED = "blocked"

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class UsernameTaken(Exception):
    """Someone else took the username (perhaps a moment ago, between check and save)."""


def normalise_name(name: str) -> str:
    """Case, accents and spacing do not matter when a name is compared with the roster."""
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.casefold().split())


def roster_match(
    *,
    member_id: str,
    group_number: str,
    first_name: str,
    last_name: str,
    gender: str,
    date_of_birth: date,
) -> Member | None:
    """The roster member with exactly these details, or None (without saying which one differs)."""
    candidates = list(
        Member.objects.select_related("group").filter(
            member_id__iexact="".join(member_id.split()),
            group__group_number__iexact="".join(group_number.split()),
        )[:2]
    )
    if len(candidates) != 1:
        return None
    member = candidates[0]
    given = (normalise_name(first_name), normalise_name(last_name), gender, date_of_birth)
    on_roster = (
        normalise_name(member.first_name),
        normalise_name(member.last_name),
        member.gender,
        member.date_of_birth,
    )
    return member if given == on_roster else None


def _release_erased_account(member: Member) -> None:
    """Refuse a second account for a member; an erased one stays as the trail's tombstone but no
    longer holds the member, who may start again. A closed one is reopened by member services."""
    existing = User.objects.select_for_update().filter(member=member).first()
    if existing is None:
        return
    if existing.is_erased:
        existing.member = None
        existing.save(update_fields=["member"])
        return
    if existing.is_closed:
        raise RegistrationRefused(RegistrationRefused.CLOSED)
    raise RegistrationRefused(RegistrationRefused.ALREADY_REGISTERED)


def _save_new_user(user: User) -> None:
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as error:
        if user.member_id and User.objects.filter(member_id=user.member_id).exists():
            raise RegistrationRefused(RegistrationRefused.ALREADY_REGISTERED) from error
        raise UsernameTaken from error


@transaction.atomic
def member_register(
    *,
    first_name: str,
    last_name: str,
    gender: str,
    date_of_birth: date,
    member_id: str,
    group_number: str,
    username: str,
    password: str,
    email: str = "",
    phone: str = "",
    language: str = "",
) -> User:
    """Create the account of an adult member whose details match the roster (ACC-1, ACC-8)."""
    member = roster_match(
        member_id=member_id,
        group_number=group_number,
        first_name=first_name,
        last_name=last_name,
        gender=gender,
        date_of_birth=date_of_birth,
    )
    if member is None:
        raise RegistrationRefused(RegistrationRefused.NO_MATCH)
    today = timezone.localdate()
    age = member.age_on(today)
    if age < MINIMUM_AGE:
        raise RegistrationRefused(RegistrationRefused.UNDER_13)
    if age < ADULT_AGE:
        raise RegistrationRefused(RegistrationRefused.MINOR)
    if member.coverage_end is not None and member.coverage_end < today:
        raise RegistrationRefused(RegistrationRefused.COVERAGE_ENDED)
    _release_erased_account(member)
    if blocks_covering(member).exists():
        raise RegistrationRefused(RegistrationRefused.BLOCKED)
    user = User(
        username=username,
        kind=User.Kind.MEMBER,
        member=member,
        # Names come from the roster, as the plan holds them, not as typed.
        first_name=member.first_name,
        last_name=member.last_name,
        email=email,
        phone=phone,
        language=language,
        password_changed_at=timezone.now(),
    )
    user.set_password(password)
    _save_new_user(user)
    return user


@transaction.atomic
def consumer_register(
    *,
    username: str,
    password: str,
    email: str,
    first_name: str,
    last_name: str,
    phone: str,
    address_line: str,
    city: str,
    region: str,
    postal_code: str,
    insurance_carrier: str,
    insurance_plan: str,
    language: str = "",
) -> User:
    """Create the account of someone who is not a plan member, to find and book care (ACC-3)."""
    user = User(
        username=username,
        kind=User.Kind.CONSUMER,
        email=email,
        first_name=first_name,
        last_name=last_name,
        phone=phone,
        language=language,
        password_changed_at=timezone.now(),
    )
    user.set_password(password)
    _save_new_user(user)
    ConsumerProfile.objects.create(
        user=user,
        address_line=address_line,
        city=city,
        region=region,
        postal_code=postal_code,
        insurance_carrier=insurance_carrier,
        insurance_plan=insurance_plan,
    )
    return user


@transaction.atomic
def password_change(*, user: User, new_password: str, keep_session_key: str | None) -> int:
    """Set a new password and end every other session of the user (ACC-4); returns how many."""
    user.set_password(new_password)
    user.password_changed_at = timezone.now()
    user.save(update_fields=["password", "password_changed_at"])
    return end_sessions(user, except_key=keep_session_key)


@transaction.atomic
def user_rename(*, user: User, username: str) -> User:
    """Change the username (ACC-10); case-insensitively unique, enforced by the database too."""
    user.username = username
    try:
        with transaction.atomic():
            user.save(update_fields=["username"])
    except IntegrityError as error:
        user.refresh_from_db(fields=["username"])
        raise UsernameTaken from error
    return user


@transaction.atomic
def user_update_names(
    *, user: User, preferred_name: str, first_name: str | None = None, last_name: str | None = None
) -> User:
    """Preferred name for everyone; legal names only for accounts not tied to the roster."""
    fields = ["preferred_name"]
    user.preferred_name = preferred_name
    if first_name is not None or last_name is not None:
        if user.member_id is not None:
            # A member's names are the roster's; correcting them is a rights request (RIG-2).
            raise ValueError("a member's names come from the roster")
        user.first_name = first_name if first_name is not None else user.first_name
        user.last_name = last_name if last_name is not None else user.last_name
        fields += ["first_name", "last_name"]
    user.save(update_fields=fields)
    return user


@transaction.atomic
def user_update_contact(*, user: User, email: str, phone: str) -> User:
    """E-mail and phone; the view asks for the password again before it calls this."""
    user.email = email
    user.phone = phone
    user.save(update_fields=["email", "phone"])
    return user


@transaction.atomic
def consumer_details_update(*, user: User, **details: str) -> ConsumerProfile:
    """A consumer's address and insurance; only the fields of the sign-up form can change."""
    allowed = {"address_line", "city", "region", "postal_code"}
    allowed |= {"insurance_carrier", "insurance_plan"}
    if user.kind != User.Kind.CONSUMER or not set(details) <= allowed:
        raise ValueError("only a consumer's address and insurance are kept here")
    # Accounts made before sign-up asked for these details have no profile yet.
    profile = ConsumerProfile.objects.filter(user=user).first() or ConsumerProfile(user=user)
    for name, value in details.items():
        setattr(profile, name, value)
    profile.full_clean()
    profile.save()
    return profile


# --- Staff second factor (ACC-12) -----------------------------------------------------------

# Who may reset a colleague's second factor when their phone is lost: compliance and the
# administrator, never for themselves (they re-enrol on their own page).
SECOND_FACTOR_RESET_ROLES = (User.StaffRole.COMPLIANCE, User.StaffRole.ADMINISTRATOR)
SECOND_FACTOR_RESET_REASON_MIN_LENGTH = 10
PENDING_SECOND_FACTOR_KEY = "haven_pending_totp_key"


def second_factor_pending(user: User, session) -> TOTPDevice:
    """The new authenticator a staff member is enrolling: its key waits in the (server-side)
    session, so merely opening the page stores no device; confirmed with a code, it is saved."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is not None:
        return device
    key = session.get(PENDING_SECOND_FACTOR_KEY)
    if not key:
        key = session[PENDING_SECOND_FACTOR_KEY] = random_hex(20)
    return TOTPDevice(user=user, name="authenticator", key=key, confirmed=False)


@transaction.atomic
def second_factor_replace(*, user: User, device: TOTPDevice, request=None) -> TOTPDevice:
    """The new authenticator, confirmed with a code it showed, replaces every earlier one; the
    change is recorded in the audit trail. The caller signs the session in with the new device."""
    if not user.is_staff_member or device.user_id != user.pk:
        raise PermissionDenied
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save()
    access.account_changed(
        subject=user, subtype="second_factor_replaced", actor=user, request=request
    )
    return device


@transaction.atomic
def second_factor_reset(*, colleague: User, reason: str, actor: User, request=None) -> int:
    """Compliance or the administrator removes a colleague's authenticator (lost or stolen) and
    ends their sessions; they enrol a new one at their next sign-in. Recorded in the audit trail
    with the reason. Returns how many of the colleague's sessions were ended."""
    if not actor.has_staff_role(*SECOND_FACTOR_RESET_ROLES):
        raise PermissionDenied
    if not colleague.is_staff_member or colleague.pk == actor.pk:
        raise ValidationError(
            _("Choose a colleague's staff account; change your own on your account page."),
            code="colleague",
        )
    reason = " ".join(reason.split())
    if len(reason) < SECOND_FACTOR_RESET_REASON_MIN_LENGTH:
        raise ValidationError(
            _("Say why in at least %(count)s characters.")
            % {"count": SECOND_FACTOR_RESET_REASON_MIN_LENGTH},
            code="reason",
        )
    TOTPDevice.objects.filter(user=colleague).delete()
    ended = end_sessions(colleague)
    access.account_changed(
        subject=colleague,
        subtype="second_factor_reset",
        note=f"{colleague.username}: {reason}",
        actor=actor,
        request=request,
    )
    return ended


# --- Closing an account (LOG-5) -------------------------------------------------------------

# Who may close their own account; staff accounts end with the employment, elsewhere.
CLOSABLE_KINDS = (
    User.Kind.MEMBER,
    User.Kind.CONSUMER,
    User.Kind.CAREGIVER,
    User.Kind.PRODUCER,
    User.Kind.PROVIDER,
)
# Member services close an account at its owner's request, as they block online access.
ACCOUNT_CLOSE_ROLES = MEMBER_SERVICES_ROLES
ACCOUNT_CLOSE_REASON_MIN_LENGTH = 10


@transaction.atomic
def account_close(*, account: User, actor: User, reason: str = "", request=None) -> int:
    """Close an account, by its owner or by member services with a reason: it is made inactive
    (so signing in is refused, see `SignInForm`), every session ends, and who closed it, when
    and why is kept on the account. The nightly retention run erases it once closed longer
    than the notice states. Returns how many sessions were ended."""
    by_staff = actor.pk != account.pk
    if by_staff and not actor.has_staff_role(*ACCOUNT_CLOSE_ROLES):
        raise PermissionDenied
    if account.kind not in CLOSABLE_KINDS:
        raise ValidationError(_("This kind of account cannot be closed here."), code="kind")
    account = User.objects.select_for_update().get(pk=account.pk)
    if account.closed_at is not None:
        raise ValidationError(_("This account is already closed."), code="closed")
    reason = " ".join(reason.split())
    if by_staff and len(reason) < ACCOUNT_CLOSE_REASON_MIN_LENGTH:
        raise ValidationError(
            _("Say why in at least %(count)s characters.")
            % {"count": ACCOUNT_CLOSE_REASON_MIN_LENGTH},
            code="reason",
        )
    account.closed_at, account.closed_by, account.closed_reason = timezone.now(), actor, reason
    account.is_active = False
    account.save(update_fields=["closed_at", "closed_by", "closed_reason", "is_active"])
    # Who closed which account and when; not the reason, which may name the person and is
    # erased with the account, while the trail is kept.
    access.account_changed(subject=account, subtype="account_closed", actor=actor, request=request)
    return end_sessions(account)


@transaction.atomic
def account_reopen(*, account: User, actor: User, request=None) -> User:
    """Member services reopen a closed account at its owner's request, before it is erased: the
    owner signs in again with their password, and the retention clock stops."""
    if not actor.has_staff_role(*ACCOUNT_CLOSE_ROLES):
        raise PermissionDenied
    account = User.objects.select_for_update().get(pk=account.pk)
    if account.closed_at is None:
        raise ValidationError(_("This account is open."), code="open")
    if account.is_erased:
        raise ValidationError(
            _("This account was erased: it cannot be reopened. Its owner can register again."),
            code="erased",
        )
    account.closed_at, account.closed_by, account.closed_reason = None, None, ""
    account.is_active = True
    account.save(update_fields=["closed_at", "closed_by", "closed_reason", "is_active"])
    access.account_changed(
        subject=account, subtype="account_reopened", actor=actor, request=request
    )
    return account
