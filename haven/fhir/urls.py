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
    path("staff/apps/", views.staff_apps, name="staff_apps"),
    path("staff/apps/<int:pk>/approve/", views.staff_app_approve, name="staff_app_approve"),
    path("staff/apps/<int:pk>/suspend/", views.staff_app_suspend, name="staff_app_suspend"),
    path("<str:resource_type>", views.resource_search, name="search"),
    path("<str:resource_type>/<str:pk>", views.resource_read, name="read"),
]
