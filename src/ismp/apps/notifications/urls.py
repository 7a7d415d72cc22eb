"""Web pages of notifications, included in the "web" namespace by ismp.apps.web.urls."""

from django.urls import URLPattern, path

from ismp.apps.notifications import views

urlpatterns: list[URLPattern] = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read/", views.inbox_read, name="inbox-read"),
    path("inbox/preferences/", views.inbox_preferences, name="inbox-preferences"),
    path("notifications/", views.notification_list, name="notification-list"),
    path("notifications/retry/", views.notification_retry, name="notification-retry-failed"),
    path("notifications/<int:pk>/retry/", views.notification_retry, name="notification-retry"),
    path("notifications/alert/", views.alert_issue, name="alert-issue"),
    path("notifications/webhooks/", views.webhook_list, name="webhook-list"),
    path("notifications/webhooks/<int:pk>/toggle/", views.webhook_toggle, name="webhook-toggle"),
    path("notifications/webhooks/<int:pk>/delete/", views.webhook_delete, name="webhook-delete"),
]
