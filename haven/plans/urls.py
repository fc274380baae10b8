from django.urls import path

from haven.plans import views

app_name = "plans"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("claims/", views.claims, name="claims"),
    path("claims/<int:pk>/", views.claim, name="claim"),
    path("card/", views.card, name="card"),
    path("card/id-card.pdf", views.card_pdf, name="card_pdf"),
    path("quote/", views.quote, name="quote"),
    path("apply/", views.apply, name="apply"),
    path("apply/sent/", views.apply_done, name="apply_done"),
    path("applications/", views.applications, name="applications"),
    path("applications/find/", views.application_find, name="application_find"),
    path("applications/<int:pk>/", views.application, name="application"),
    path(
        "applications/<int:pk>/decision/", views.application_decision, name="application_decision"
    ),
]
