from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "ismp.apps.notifications"
    label = "notifications"
    verbose_name = "Notifications"
