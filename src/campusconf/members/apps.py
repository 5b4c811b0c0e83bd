from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "campusconf.members"
    label = "members"
