from django.urls import path

from haven.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("flagged/", views.flagged, name="flagged"),
    path("events/<int:pk>/", views.event, name="event"),
    path("export.csv", views.export, name="export"),
    path("policy/", views.policy, name="policy"),
    path("training/", views.training, name="training"),
]
