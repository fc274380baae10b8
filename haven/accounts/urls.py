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
    path("register/", views.register, name="register"),
    path("register/member/", views.register_member, name="register_member"),
    path("register/consumer/", views.register_consumer, name="register_consumer"),
    path("password/", views.password_change, name="password_change"),
    path("profile/", views.profile, name="profile"),
    path("profile/username/", views.profile_username, name="profile_username"),
    path("profile/name/", views.profile_names, name="profile_names"),
    path("profile/contact/", views.profile_contact, name="profile_contact"),
    path("profile/address/", views.profile_consumer, name="profile_consumer"),
    path("sessions/", views.sessions, name="sessions"),
    path("sessions/<int:pk>/end/", views.session_end, name="session_end"),
    path("sessions/end-others/", views.sessions_end_others, name="sessions_end_others"),
]

# The staff second factor: replacing one's own, and resetting a colleague's (ACC-12).
urlpatterns += [
    path("second-factor/", views.second_factor, name="second_factor"),
    path("second-factor/reset/", views.second_factor_reset, name="second_factor_reset"),
]

# Closing an account: its owner, or member services with a reason (LOG-5).
urlpatterns += [
    path("close/", views.account_close, name="account_close"),
    path("staff/accounts/", views.staff_account_find, name="staff_account_find"),
    path("staff/accounts/<int:pk>/", views.staff_account, name="staff_account"),
]
