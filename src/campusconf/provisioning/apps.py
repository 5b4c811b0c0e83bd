from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProvisioningConfig(AppConfig):
    name = "campusconf.provisioning"
    verbose_name = _("provisioning")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # A waiting account's next check (watch.py) begins and ends with the wait, in the
        # transaction of the state change.
        from campusconf.accounts.lifecycle import account_transitioned, accounts_transitioned
        from campusconf.provisioning import watch

        account_transitioned.connect(watch.on_transition, dispatch_uid="provisioning-watch")
        accounts_transitioned.connect(watch.on_transitions, dispatch_uid="provisioning-watch-batch")
