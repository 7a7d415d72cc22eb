from django.apps import AppConfig


class ControlsConfig(AppConfig):
    name = "ismp.apps.controls"
    label = "controls"
    verbose_name = "Controls"
