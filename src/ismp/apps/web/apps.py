from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "ismp.apps.web"
    label = "web"
    verbose_name = "Web interface"
