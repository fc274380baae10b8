from django.urls import path

from haven.caregivers import views

app_name = "caregivers"

urlpatterns = [
    path("", views.grants, name="grants"),
    path("switch/", views.switch, name="switch"),
]
