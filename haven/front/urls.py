from django.urls import path

from haven.front import views

app_name = "front"

urlpatterns = [
    path("", views.home, name="home"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("staff/", views.staff_home, name="staff_home"),
]
