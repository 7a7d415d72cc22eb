from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "ismp.apps.accounts"
    label = "accounts"
    verbose_name = "Accounts and organisations"
