from django.urls import path

from haven.mail import views

app_name = "mail"

urlpatterns = [
    path("genuine/", views.genuine, name="genuine"),
    path("preferences/", views.preferences, name="preferences"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("t/<str:token>.gif", views.tracking_pixel, name="tracking_pixel"),
    path("portal/", views.portal_home, name="portal_home"),
    path("portal/open/<str:token>/", views.portal_open, name="portal_open"),
    path("portal/conversations/<int:pk>/", views.portal_conversation, name="portal_conversation"),
    path("portal/signout/", views.portal_signout, name="portal_signout"),
    path("portal/reset/", views.portal_reset_request, name="portal_reset_request"),
    path("portal/reset/<str:token>/", views.portal_reset, name="portal_reset"),
    path("secure/", views.secure_list, name="secure_list"),
    path("secure/new/", views.secure_compose, name="secure_compose"),
    path("secure/<int:pk>/", views.secure_conversation, name="secure_conversation"),
    path("support/opt-out/", views.support_opt_out, name="support_opt_out"),
    path("outbox/", views.outbox, name="outbox"),
    path("outbox/<int:pk>/retry/", views.outbox_retry, name="outbox_retry"),
]
