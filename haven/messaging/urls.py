from django.urls import path

from haven.messaging import views

app_name = "messaging"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("archived/", views.archived, name="archived"),
    path("new/", views.new, name="new"),
    path("<int:pk>/", views.conversation, name="conversation"),
    path("<int:pk>/archive/", views.archive, name="archive"),
    path("<int:pk>/assign/", views.assign, name="assign"),
    path("<int:pk>/close/", views.close, name="close"),
    path("<int:pk>/reopen/", views.reopen, name="reopen"),
    path("<int:pk>/classify/", views.classify, name="classify"),
    path("attachments/<int:pk>/", views.attachment, name="attachment"),
    path("queue/", views.queue, name="queue"),
    path("staff/new/", views.staff_new, name="staff_new"),
    path("notifications/", views.preferences, name="preferences"),
    path("notifications/push/worker.js", views.push_worker, name="push_worker"),
    path("notifications/push/subscribe/", views.push_subscribe, name="push_subscribe"),
    path("notifications/push/remove/", views.push_device_remove, name="push_device_remove"),
]
