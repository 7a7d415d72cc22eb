from django.apps import AppConfig


class VulnsConfig(AppConfig):
    name = "ismp.apps.vulns"
    label = "vulns"
    verbose_name = "Vulnerability intelligence"
