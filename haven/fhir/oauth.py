"""SMART App Launch on django-oauth-toolkit: scopes, and tokens bound to one authorisation.

The authorisation screen (views.authorize) records which member the app may reach; the
validator carries that choice from the authorization code to every token minted from it, puts
`patient` in the token response, and issues refresh tokens only with `offline_access`.
"""

import hashlib

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from oauth2_provider.models import AccessToken, Grant
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import BaseScopes
from oauth2_provider.settings import _PhonyHttpRequest

from haven.fhir.models import Authorisation, AuthorisationToken

# Member data the API serves, by FHIR resource type; the directory needs no scope.
PATIENT_RESOURCES = ("Patient", "Coverage", "ExplanationOfBenefit", "Appointment")
DIRECTORY_RESOURCES = ("Practitioner", "PractitionerRole", "Organization", "Location")

SCOPES: dict[str, str] = {
    "openid": _("Confirm to the app that it is you who signed in"),
    "fhirUser": _("Know who you are: your own member record's reference, not its contents"),
    "launch/patient": _("Know whose record you chose"),
    "offline_access": _("Keep access after you close the app, until you revoke it"),
    "patient/*.rs": _("Everything in the record: profile, coverage, claims and appointments"),
    "patient/*.read": _("Everything in the record: profile, coverage, claims and appointments"),
    "patient/Patient.rs": _("Your name, birth date, member ID, address and phone"),
    "patient/Coverage.rs": _("Your plan, group and dates of coverage"),
    "patient/ExplanationOfBenefit.rs": _(
        "Your claims: providers, dates, amounts, diagnosis and procedure codes"
    ),
    "patient/Appointment.rs": _("Your appointments: when and with whom"),
}
for _type in PATIENT_RESOURCES:
    SCOPES.setdefault(f"patient/{_type}.read", SCOPES[f"patient/{_type}.rs"])


def scope_allows(scopes: list[str], resource_type: str, interaction: str) -> bool:
    """Whether SMART scopes open `interaction` ("r" read, "s" search) on a patient resource.
    Version 1 `.read` opens both; version 2 permissions name each."""
    for scope in scopes:
        context, _sep, rest = scope.partition("/")
        if context != "patient" or "." not in rest:
            continue
        kind, permissions = rest.rsplit(".", 1)
        if kind not in ("*", resource_type):
            continue
        if permissions == "read" or interaction in permissions:
            return True
    return False


def plain_words(scopes: list[str]) -> list[str]:
    """What the member is asked to share, once each, in their language."""
    seen: list[str] = []
    for scope in scopes:
        text = str(SCOPES.get(scope, scope))
        if text not in seen:
            seen.append(text)
    return seen


class SmartScopes(BaseScopes):
    """Scopes are those SMART names that Haven serves; an app asks only for those staff approved."""

    def get_all_scopes(self):
        return {name: str(text) for name, text in SCOPES.items()}

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        app = getattr(application, "haven_app", None) if application is not None else None
        if app is None or not app.is_approved:
            return []
        return [scope for scope in app.scopes if scope in SCOPES]

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        return []


def fhir_user(authorisation: Authorisation) -> str | None:
    """The fhirUser claim: the Patient who signed in, when the person has a member record of
    their own (also when they chose a record they hold a grant for: the app learns who is acting,
    not a false identity). A caregiver without a record of their own gets none."""
    member_id = authorisation.user.member_id
    return f"Patient/{member_id}" if member_id is not None else None


def issuer(request) -> str:
    """The OpenID Connect issuer: the FHIR base (as in /.well-known/smart-configuration), from an
    oauthlib request the way django-oauth-toolkit builds its own."""
    django_request = _PhonyHttpRequest()
    django_request.META = request.headers
    if request.headers.get("X_DJANGO_OAUTH_TOOLKIT_SECURE", False):
        django_request._scheme = "https"
    return django_request.build_absolute_uri(reverse("fhir:base")).rstrip("/")


class SmartValidator(OAuth2Validator):
    oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, "fhirUser": "fhirUser"}

    def get_oidc_issuer_endpoint(self, request):
        return issuer(request)

    def get_additional_claims(self, request):
        authorisation = Authorisation.objects.select_related("user").get(
            pk=request.haven_authorisation_id
        )
        user = fhir_user(authorisation)
        return {"fhirUser": user} if user else {}

    def save_authorization_code(self, client_id, code, request, *args, **kwargs):
        super().save_authorization_code(client_id, code, request, *args, **kwargs)
        authorisation_id = getattr(request, "haven_authorisation_id", None)
        if authorisation_id is None:
            raise ValueError("an authorization code needs the member's authorisation")
        grant = Grant.objects.get(code=code["code"], application=request.client)
        Authorisation.objects.filter(pk=authorisation_id, code__isnull=True).update(
            code=grant, approved_at=timezone.now()
        )

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        if not super().validate_code(client_id, code, client, request, *args, **kwargs):
            return False
        authorisation = Authorisation.objects.active().filter(code__code=code).first()
        if authorisation is None:
            return False
        request.haven_authorisation_id = authorisation.pk
        return True

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        if not super().validate_refresh_token(refresh_token, client, request, *args, **kwargs):
            return False
        link = AuthorisationToken.objects.filter(
            access_token=request.refresh_token_instance.access_token_id,
            authorisation__revoked_at__isnull=True,
        ).first()
        if link is None:
            return False
        request.haven_authorisation_id = link.authorisation_id
        return True

    def _save_bearer_token(self, token, request, *args, **kwargs):
        authorisation = Authorisation.objects.active().get(pk=request.haven_authorisation_id)
        if "offline_access" not in authorisation.scopes:
            token.pop("refresh_token", None)
        super()._save_bearer_token(token, request, *args, **kwargs)
        access_token = AccessToken.objects.get(token_checksum=_checksum(token["access_token"]))
        AuthorisationToken.objects.get_or_create(
            access_token=access_token, defaults={"authorisation": authorisation}
        )
        token["patient"] = str(authorisation.member_id)


def _checksum(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
