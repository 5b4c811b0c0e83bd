from django.apps import AppConfig


class ServicesConfig(AppConfig):
    name = "campusconf.services"
    label = "services"
