from django.urls import path

from haven.support import views

app_name = "support"

urlpatterns = [
    path("members/", views.member_search, name="member_search"),
    path("members/<int:pk>/", views.member, name="member"),
    path("members/<int:pk>/block/", views.block_create, name="block_create"),
    path("members/<int:pk>/guardian/", views.guardian_create, name="guardian_create"),
    path("blocks/", views.blocks, name="blocks"),
    path("blocks/<int:pk>/lift/", views.block_lift, name="block_lift"),
    path("guardians/<int:pk>/end/", views.guardian_end, name="guardian_end"),
]
