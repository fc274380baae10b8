from django.urls import path

from haven.fhir import views

app_name = "fhir"

urlpatterns = [
    path("", views.base, name="base"),
    path("metadata", views.metadata, name="metadata"),
    path(
        ".well-known/openid-configuration",
        views.openid_configuration,
        name="openid_configuration",
    ),
    path("apps/", views.apps, name="apps"),
    path("apps/<int:pk>/revoke/", views.app_revoke, name="app_revoke"),
    path("<str:resource_type>", views.resource_search, name="search"),
    path("<str:resource_type>/<str:pk>", views.resource_read, name="read"),
]
