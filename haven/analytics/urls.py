from django.urls import path

from haven.analytics import views

app_name = "analytics"
urlpatterns = [
    path("", views.report, name="report"),
]
