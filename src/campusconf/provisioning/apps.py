from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProvisioningConfig(AppConfig):
    name = "campusconf.provisioning"
    verbose_name = _("provisioning")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here: these modules import models, not loadable while apps populate.
        from campusconf.accounts.lifecycle import account_transitioned, accounts_transitioned
        from campusconf.provisioning.conf import engine_setting
        from campusconf.provisioning.engine import schedules, service_access, watch, webhook_events
        from campusconf.provisioning.verbs import (
            campaign_enrolment,
            campaign_latecomers,
            licence_end,
            seat_admission,
        )

        register = schedules.register
        register(
            "expire-invitations",
            lambda: 60 * int(engine_setting("EXPIRY_CHECK_MINUTES")),
            schedules.expire_invitations,
        )
        # The seat queue moves within a minute of any seat freeing, whatever freed it.
        register("seats", 60, seat_admission.admit_everywhere)
        # Licence end (S16): the 30-day notice and the policy; hourly for a date rule.
        register("licence-end", 60 * 60, licence_end.sweep)
        # Campaign enrolment and scheduled starts (S10): soon after the staff asked.
        register("campaigns", 5, campaign_enrolment.enroll_due)
        # Members a running or finished campaign's audience gained (a student created
        # after the cut-off or the start): invited within a minute of appearing.
        register("campaign-latecomers", 60, campaign_latecomers.invite_latecomers)
        # Vendor events the webhook view recorded: acted on within seconds of arriving.
        register("webhooks", 2, webhook_events.process)
        # Services paused because the vendor refuses their credential: probed when due,
        # and the staff told.
        register("service-access", 15, service_access.run)
        # Accounts waiting on their member, read one at a time when due; a waiting
        # account's next check begins and ends with the wait, in the transaction of the
        # state change.
        register("watch", lambda: int(engine_setting("WATCH_SECONDS")), watch.run)
        account_transitioned.connect(watch.on_transition, dispatch_uid="provisioning-watch")
        accounts_transitioned.connect(watch.on_transitions, dispatch_uid="provisioning-watch-batch")
