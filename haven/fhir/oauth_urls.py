"""SMART on FHIR's OAuth endpoints, mounted at /oauth/: Haven's authorisation screen and
django-oauth-toolkit's token and revocation endpoints."""

from django.urls import path
from oauth2_provider import views as oauth

from haven.fhir import views

app_name = "oauth"

urlpatterns = [
    path("authorize/", views.authorize, name="authorize"),
    path("token/", oauth.TokenView.as_view(), name="token"),
    path("revoke/", oauth.RevokeTokenView.as_view(), name="revoke"),
    path("jwks/", oauth.JwksInfoView.as_view(), name="jwks"),
]
