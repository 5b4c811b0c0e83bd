from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "campusconf.demo"
    label = "demo"
