from django.urls import path

from haven.security import views

app_name = "security"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("events/<int:pk>/review/", views.review, name="review"),
    path("web-log/", views.web_log, name="web_log"),
]
