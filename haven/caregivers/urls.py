from django.urls import path

from haven.caregivers import views

app_name = "caregivers"

urlpatterns = [
    path("", views.grants, name="grants"),
    path("switch/", views.switch, name="switch"),
    path("invite/", views.invite, name="invite"),
    path("<int:pk>/link/", views.invitation_link, name="invitation_link"),
    path("<int:pk>/revoke/", views.revoke, name="revoke"),
    path("<int:pk>/renew/", views.renew, name="renew"),
    path("held/<int:pk>/give-up/", views.give_up, name="give_up"),
    path("invitation/", views.accept, name="accept"),
    path("invitation/account/", views.invitation_account, name="invitation_account"),
    path("invitation/<str:token>/", views.invitation, name="invitation"),
]
