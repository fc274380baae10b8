from django.urls import include, path

from haven.fhir.views import smart_configuration
from haven.privacy.views import gpc_json

urlpatterns = [
    path("", include("haven.front.urls")),
    path("accounts/", include("haven.accounts.urls")),
    path("producers/", include("haven.producers.urls")),
    path("caregivers/", include("haven.caregivers.urls")),
    path("audit/", include("haven.audit.urls")),
    path("records/", include("haven.records.urls")),
    path("support/", include("haven.support.urls")),
    path("messages/", include("haven.messaging.urls")),
    path("mail/", include("haven.mail.urls")),
    path("plans/", include("haven.plans.urls")),
    path("privacy/", include("haven.privacy.urls")),
    path("care/", include("haven.care.urls")),
    path("employers/", include("haven.employers.urls")),
    path("library/", include("haven.library.urls")),
    path("fhir/", include("haven.fhir.urls")),
    path("analytics/", include("haven.analytics.urls")),
    path("security/", include("haven.security.urls")),
    path("oauth/", include("haven.fhir.oauth_urls")),
    path(".well-known/smart-configuration", smart_configuration, name="smart_configuration"),
    path(".well-known/gpc.json", gpc_json, name="gpc_json"),
]
