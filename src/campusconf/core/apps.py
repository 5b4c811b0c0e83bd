from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "campusconf.core"
    label = "core"
    verbose_name = "CampusConf"
