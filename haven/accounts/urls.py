from django.urls import path

from haven.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.signin, name="login"),
    path("logout/", views.signout, name="logout"),
    path("two-factor/", views.two_factor, name="two_factor"),
    path("confirm-password/", views.confirm_password, name="confirm_password"),
    path("session/status/", views.session_status, name="session_status"),
    path("session/keepalive/", views.session_keepalive, name="session_keepalive"),
    path("language/", views.set_language, name="set_language"),
    path("profile/", views.profile, name="profile"),
    path("register/", views.register, name="register"),
]
