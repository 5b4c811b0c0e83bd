from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "campusconf.directory"
    label = "directory"
