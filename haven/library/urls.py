from django.urls import path

from haven.library import views

app_name = "library"

urlpatterns = [
    path("", views.index, name="index"),
    path("articles/<slug:slug>/", views.article, name="article"),
    path("programmes/<slug:slug>/", views.programme, name="programme"),
    path("programmes/<slug:slug>/leave/", views.leave, name="leave"),
    path("mine/", views.mine, name="mine"),
    path("mine/questionnaires/<int:pk>/", views.questionnaire, name="questionnaire"),
    path("staff/", views.staff_content, name="staff_content"),
    path("staff/articles/new/", views.article_edit, name="article_new"),
    path("staff/articles/<int:pk>/", views.article_edit, name="article_edit"),
    path("staff/programmes/<int:pk>/", views.programme_edit, name="programme_edit"),
    path("staff/programmes/<int:pk>/items/new/", views.item_edit, name="item_new"),
    path("staff/programmes/<int:pk>/items/<int:item_pk>/", views.item_edit, name="item_edit"),
]
