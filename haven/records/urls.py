from django.urls import path

from haven.records import views

app_name = "records"

urlpatterns = [
    path("", views.search, name="search"),
    path("<int:pk>/", views.member_record, name="member"),
    path("<int:pk>/emergency/", views.emergency, name="emergency"),
    path("<int:pk>/documents/new/", views.document_new, name="document_new"),
    path("documents/<int:pk>/", views.document_download, name="document"),
    path("mine/", views.my_documents, name="mine"),
    path("mine/export/", views.my_export, name="my_export"),
    path("mine/<int:pk>/", views.my_document, name="my_document"),
]
