from django.apps import AppConfig


class WorkflowConfig(AppConfig):
    name = "ismp.apps.workflow"
    label = "workflow"
    verbose_name = "Workflow"

    def ready(self) -> None:
        from ismp.apps.workflow.receivers import connect

        connect()
