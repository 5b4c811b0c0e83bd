from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "campusconf.portal"
    verbose_name = _("Member portal")

    def ready(self) -> None:
        # The lifecycle knows nothing of mail; the portal listens for the state changes
        # that call for a notice and queues it in the same transaction.
        from campusconf.accounts.lifecycle import account_transitioned, accounts_transitioned
        from campusconf.portal import member_audit
        from campusconf.portal.outbox import on_transition, on_transitions

        account_transitioned.connect(on_transition, dispatch_uid="portal-notices")
        accounts_transitioned.connect(on_transitions, dispatch_uid="portal-notices-batch")
        # Members act one account at a time; the engine's batches carry no member cause.
        account_transitioned.connect(member_audit.on_transition, dispatch_uid="portal-member-audit")
