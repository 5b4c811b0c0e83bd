from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SigninConfig(AppConfig):
    name = "campusconf.signin"
    verbose_name = _("Sign-in")

    def ready(self) -> None:
        # Importing axes.signals connects axes' own receivers, so they run before ours:
        # events.password_failed reads what axes has just counted. Ours are imported here
        # too: they import models, not loadable while the apps populate.
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        from campusconf.signin import checks, events

        user_logged_in.connect(events.signed_in, dispatch_uid="campusconf.signin.signed_in")
        user_login_failed.connect(
            events.password_failed, dispatch_uid="campusconf.signin.password_failed"
        )
        user_locked_out.connect(events.locked_out, dispatch_uid="campusconf.signin.locked_out")
        checks.register()
