"""Registering apps, members authorising and revoking them, and what a token may reach (DIS-8)."""

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from oauth2_provider.models import AccessToken, Application, RefreshToken

from haven.accounts.models import User
from haven.caregivers.models import Grant
from haven.fhir.models import AppStatus, Authorisation, AuthorisationToken, RegisteredApp
from haven.fhir.oauth import SCOPES
from haven.plans.models import Member

APPROVER_ROLES = (User.StaffRole.ADMINISTRATOR,)


def _check_redirect_uris(uris: list[str]) -> list[str]:
    local_ok = not settings.PRODUCTION
    checked = []
    for uri in uris:
        parts = urlsplit(uri.strip())
        local = parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost")
        if (
            not parts.netloc
            or parts.fragment
            or not (parts.scheme == "https" or (local and local_ok))
        ):
            raise ValidationError(
                _("Redirect addresses must be complete https addresses without a fragment."),
                code="redirect_uri",
            )
        checked.append(uri.strip())
    if not checked:
        raise ValidationError(_("Give at least one redirect address."), code="redirect_uri")
    return checked


def _check_scopes(scopes: list[str]) -> list[str]:
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown or not scopes:
        raise ValidationError(
            _("Unknown scopes: %(scopes)s.") % {"scopes": " ".join(unknown) or "-"}, code="scopes"
        )
    return list(dict.fromkeys(scopes))


@transaction.atomic
def app_register(
    *,
    name: str,
    redirect_uris: list[str],
    scopes: list[str],
    developer: str,
    privacy_policy_url: str = "",
    privacy_practices: str = "",
    confidential: bool = False,
    approve: bool = True,
    actor: User | None,
) -> tuple[RegisteredApp, str]:
    """Register an app. The operator's command approves it at once; registered on the staff page
    (`approve=False`) it waits for approval and no member can authorise it until then. Returns the
    app and its client secret ("" for public apps, which rely on PKCE alone)."""
    if actor is not None and not actor.has_staff_role(*APPROVER_ROLES):
        raise PermissionDenied(_("Only an administrator registers and approves apps."))
    if not name.strip():
        raise ValidationError(_("Give the app's name."), code="name")
    uris = _check_redirect_uris(redirect_uris)
    scopes = _check_scopes(scopes)
    application = Application(
        name=name.strip()[:255],
        redirect_uris=" ".join(uris),
        client_type=(
            Application.CLIENT_CONFIDENTIAL if confidential else Application.CLIENT_PUBLIC
        ),
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        skip_authorization=False,
        algorithm=Application.RS256_ALGORITHM,
    )
    secret = application.client_secret if confidential else ""
    if not confidential:
        application.client_secret = ""  # nosec B105  # a public client has no secret
    application.save()
    app = RegisteredApp.objects.create(
        application=application,
        developer=developer.strip() or name.strip(),
        privacy_policy_url=privacy_policy_url,
        privacy_practices=privacy_practices.strip(),
        scopes=scopes,
        status=AppStatus.APPROVED if approve else AppStatus.PENDING,
        approved_by=actor if approve else None,
        approved_at=timezone.now() if approve else None,
    )
    return app, secret


@transaction.atomic
def app_approve(*, app: RegisteredApp, actor: User) -> RegisteredApp:
    """Approve a waiting (or suspended) app: members may authorise it from now on. Authorisations
    a suspension revoked stay revoked; members connect again if they want."""
    if not actor.has_staff_role(*APPROVER_ROLES):
        raise PermissionDenied(_("Only an administrator approves apps."))
    app = RegisteredApp.objects.select_for_update().get(pk=app.pk)
    if app.status != AppStatus.APPROVED:
        app.status = AppStatus.APPROVED
        app.approved_by = actor
        app.approved_at = timezone.now()
        app.save(update_fields=["status", "approved_by", "approved_at"])
    return app


@transaction.atomic
def app_suspend(*, app: RegisteredApp, actor: User) -> RegisteredApp:
    """Stop an app at once: its tokens stop working and no member can authorise it."""
    if not actor.has_staff_role(*APPROVER_ROLES):
        raise PermissionDenied(_("Only an administrator suspends apps."))
    app.status = AppStatus.SUSPENDED
    app.save(update_fields=["status"])
    for authorisation in app.authorisations.active():
        _revoke(authorisation, actor)
    return app


def records_for(user: User) -> list[tuple[Member, Grant | None]]:
    """Whose record the user may give an app: their own, and each member they hold a grant for."""
    records: list[tuple[Member, Grant | None]] = []
    if user.member_id is not None:
        records.append((user.member, None))
    grants = Grant.objects.current().filter(grantee=user).select_related("member")
    seen = {member.pk for member, _grant in records}
    for grant in grants.order_by("member__first_name"):
        if grant.member_id not in seen:
            records.append((grant.member, grant))
            seen.add(grant.member_id)
    return records


@transaction.atomic
def authorisation_start(
    *, app: RegisteredApp, member: Member, scopes: list[str], actor: User
) -> Authorisation:
    """The member approved the app for this record; the code issued next binds to it."""
    if not app.is_approved:
        raise PermissionDenied(_("This app is not approved."))
    grant = None
    if actor.member_id != member.pk:
        grant = next((g for m, g in records_for(actor) if m.pk == member.pk), None)
        if grant is None:
            raise PermissionDenied(_("You cannot give an app this person's record."))
    return Authorisation.objects.create(
        app=app, user=actor, member=member, grant=grant, scope=" ".join(scopes)
    )


def _revoke(authorisation: Authorisation, actor: User) -> None:
    authorisation.revoked_at = timezone.now()
    authorisation.revoked_by = actor
    authorisation.save(update_fields=["revoked_at", "revoked_by"])
    token_ids = list(authorisation.tokens.values_list("access_token_id", flat=True))
    RefreshToken.objects.filter(access_token_id__in=token_ids).update(revoked=timezone.now())
    AccessToken.objects.filter(pk__in=token_ids).delete()


@transaction.atomic
def authorisation_revoke(*, authorisation: Authorisation, actor: User) -> Authorisation:
    """The member disconnects an app: every token it holds stops working at once."""
    if authorisation.user_id != actor.pk:
        raise PermissionDenied(_("Only the person who connected this app can disconnect it."))
    if authorisation.revoked_at is None:
        _revoke(authorisation, actor)
    return authorisation


@dataclass(frozen=True)
class TokenAccess:
    authorisation: Authorisation
    scopes: list[str]
    expires: datetime


def token_access(bearer: str) -> TokenAccess | None:
    """What a bearer token may reach, or None if it is unknown, expired or revoked."""
    from haven.fhir.oauth import _checksum

    if not bearer:
        return None
    token = (
        AccessToken.objects.filter(token_checksum=_checksum(bearer))
        .select_related("haven_authorisation__authorisation__app__application")
        .first()
    )
    if token is None or token.is_expired():
        return None
    link = AuthorisationToken.objects.filter(access_token=token).first()
    if link is None:
        return None
    authorisation = link.authorisation
    if not authorisation.is_active or not authorisation.app.is_approved:
        return None
    return TokenAccess(
        authorisation=authorisation, scopes=token.scope.split(), expires=token.expires
    )
