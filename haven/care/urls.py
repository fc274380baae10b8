from django.urls import path

from haven.care import views

app_name = "care"

urlpatterns = [
    path("", views.search, name="search"),
    path("practitioners/<int:pk>/", views.practitioner, name="practitioner"),
    path("practitioners/<int:pk>/review/", views.review, name="review"),
    path("practitioners/<int:pk>/review/delete/", views.review_delete, name="review_delete"),
    path("facilities/<int:pk>/", views.facility, name="facility"),
    path("slots/<int:pk>/book/", views.book, name="book"),
    path("appointments/", views.appointments, name="appointments"),
    path("appointments/<int:pk>/", views.appointment, name="appointment"),
    path("appointments/<int:pk>/move/", views.move, name="move"),
    path("appointments/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("appointments/<int:pk>/decide/", views.decide, name="decide"),
    path("appointments/<int:pk>/refer/", views.refer, name="refer"),
    path("practice/", views.provider_home, name="provider_home"),
    path("practice/visits/", views.provider_services, name="provider_services"),
    path("practice/times/", views.provider_availability, name="provider_availability"),
    path("practice/times/<int:pk>/withdraw/", views.slot_withdraw, name="slot_withdraw"),
    path("reviews/<int:pk>/answer/", views.review_answer, name="review_answer"),
    path("invite/", views.invite, name="invite"),
    path("invitations/never/<str:token>/", views.never_invite, name="never_invite"),
    path("leaving/", views.leaving, name="leaving"),
]
