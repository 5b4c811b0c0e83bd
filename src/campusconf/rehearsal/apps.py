from django.apps import AppConfig


class RehearsalConfig(AppConfig):
    name = "campusconf.rehearsal"
    label = "rehearsal"
    verbose_name = "Term-start rehearsal (development tool)"
