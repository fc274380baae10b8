from django.urls import path

from haven.producers import views

app_name = "producers"

urlpatterns = [
    path("", views.home, name="home"),
    path("register/", views.register, name="register"),
    path("registration/", views.status, name="status"),
    path("registration/edit/", views.edit, name="edit"),
    path("review/", views.review_queue, name="review_queue"),
    path("review/<int:pk>/", views.review, name="review"),
    path("clients/<int:pk>/", views.client, name="client"),
    path("authorised/", views.authorisations, name="authorisations"),
    path("authorised/<int:pk>/revoke/", views.revoke, name="revoke"),
    path("activity/", views.activity, name="activity"),
]
