from django.urls import path

from haven.employers import views

app_name = "employers"

urlpatterns = [
    path("", views.home, name="home"),
    path("members/<int:pk>/", views.member, name="member"),
    path("contacts/", views.contacts, name="contacts"),
]
