from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "campusconf.accounts"
    label = "accounts"
