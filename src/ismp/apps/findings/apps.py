from django.apps import AppConfig


class FindingsConfig(AppConfig):
    name = "ismp.apps.findings"
    label = "findings"
    verbose_name = "Findings"

    def ready(self) -> None:
        from ismp.apps.findings.receivers import connect

        connect()
