from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "ismp.apps.dashboard"
    label = "dashboard"
    verbose_name = "Dashboard"
