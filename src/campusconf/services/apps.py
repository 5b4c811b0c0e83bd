from django.apps import AppConfig


class ServicesConfig(AppConfig):
    name = "campusconf.services"
    label = "services"

    def ready(self) -> None:
        # Connects the signals that clear the process's list of services on a change.
        from campusconf.services import catalogue  # noqa: F401
