from django.urls import path

from haven.privacy import views

app_name = "privacy"

urlpatterns = [
    path("", views.center, name="center"),
    path("notice/", views.notice_current, name="notice_current"),
    path("notice/<str:revision>/", views.notice_version, name="notice_version"),
    path("notice/<str:revision>/pdf/", views.notice_pdf, name="notice_pdf"),
    path("notices/<int:pk>/acknowledge/", views.notice_acknowledge, name="notice_acknowledge"),
    path("printed-copy/", views.printed_copy, name="printed_copy"),
    path("recipients/", views.recipients, name="recipients"),
    path("contact/", views.contact, name="contact"),
    path("cookies/", views.cookies, name="cookies"),
    path("analytics/time/", views.page_time, name="page_time"),
    path("preferences/", views.preferences, name="preferences"),
    path("marketing/", views.marketing, name="marketing"),
    path("consents/", views.consents, name="consents"),
    path("location/", views.location_permission, name="location_permission"),
    path("location/<int:pk>/withdraw/", views.location_withdraw, name="location_withdraw"),
    path("requests/", views.requests, name="requests"),
    path("requests/new/<str:kind>/", views.request_new, name="request_new"),
    path("requests/<int:pk>/", views.request_detail, name="request_detail"),
    path("requests/<int:pk>/progress/", views.request_progress, name="request_progress"),
    path("requests/<int:pk>/download/", views.request_download, name="request_download"),
    path("archives/<str:token>/", views.archive_download, name="archive_download"),
    path("disclosures/", views.accounting, name="accounting"),
    path("incidents/<int:pk>/", views.incident_notice, name="incident_notice"),
    path("staff/", views.dashboard, name="dashboard"),
    path("staff/requests/<int:pk>/", views.staff_request, name="staff_request"),
    path("staff/notices/", views.staff_notices, name="staff_notices"),
    path("staff/notices/<int:pk>/", views.staff_notice, name="staff_notice"),
    path("staff/recipients/", views.staff_recipients, name="staff_recipients"),
    path("staff/recipients/<int:pk>/", views.staff_recipient, name="staff_recipient"),
    path("staff/disclosures/", views.staff_disclosure, name="staff_disclosure"),
    path("staff/incidents/", views.staff_incidents, name="staff_incidents"),
    path("staff/incidents/<int:pk>/", views.staff_incident, name="staff_incident"),
    path("staff/printed-copies/", views.staff_printed_copies, name="staff_printed_copies"),
    path("staff/inquiries/", views.staff_inquiries, name="staff_inquiries"),
    path("staff/holds/", views.staff_holds, name="staff_holds"),
]
