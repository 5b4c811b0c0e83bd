from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "campusconf.directory"
    label = "directory"

    def ready(self) -> None:
        # Imported here: both import models, not loadable while apps populate.
        from campusconf.directory.leavers import process_leavers, told_and_due
        from campusconf.provisioning.engine import reconcile, schedules

        # Members who left are told, then let go; hourly is ample for a date-based rule.
        schedules.register("leavers", 60 * 60, process_leavers)
        # Reconcile lets go only those told, once their date has come.
        reconcile.let_go_when(told_and_due)
