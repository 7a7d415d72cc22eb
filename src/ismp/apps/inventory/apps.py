from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "ismp.apps.inventory"
    label = "inventory"
    verbose_name = "System inventory"
