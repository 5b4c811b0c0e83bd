from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "campusconf.portal"
    verbose_name = _("Member portal")

    def ready(self) -> None:
        # The lifecycle knows nothing of mail; the portal listens for the state changes
        # that call for a notice and queues it in the same transaction. Imported here:
        # outbox imports models, which the app registry is not ready for at import time.
        from campusconf.accounts.lifecycle import account_transitioned, accounts_transitioned
        from campusconf.portal.outbox import (
            on_renewal_told,
            on_told,
            on_transition,
            on_transitions,
            queue_expiring,
            send_due,
        )
        from campusconf.provisioning.engine import schedules
        from campusconf.provisioning.verbs.announce import member_told, renewal_told

        account_transitioned.connect(on_transition, dispatch_uid="portal-notices")
        accounts_transitioned.connect(on_transitions, dispatch_uid="portal-notices-batch")
        # The engine announces what members must hear; it cannot import the portal.
        member_told.connect(on_told, dispatch_uid="portal-notices-told")
        renewal_told.connect(on_renewal_told, dispatch_uid="portal-notices-renewal")
        # Notices: a change that queues one brings this schedule forward (outbox), so ours
        # goes out with the vendor's own mail; retried while SMTP is down. Invitations
        # expiring within 3 days get a reminder.
        schedules.register("notices", 10, send_due)
        schedules.register("notices-expiring", 24 * 60 * 60, queue_expiring)
