from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from campusconf.services.models import Service


class ReasonField(forms.CharField):
    """Every staff change carries a reason; the audit log is useless without one."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Reason"))
        kwargs.setdefault(
            "help_text", _("Saved in the audit log. Say why, e.g. the inquiry number.")
        )
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 2}))
        super().__init__(required=True, min_length=3, max_length=2000, **kwargs)


class ReasonForm(forms.Form):
    reason = ReasonField()


class StaffLoginForm(AuthenticationForm):
    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if not (user.is_staff or user.is_superuser or user.has_perm("backoffice.access")):
            raise forms.ValidationError(_("This user has no staff rights."), code="not_staff")


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Common ID, name or mail address"), required=False, max_length=200)


class LicenceTermsForm(forms.ModelForm[Service]):
    reason = ReasonField()

    class Meta:
        model = Service
        fields = ["plan_name", "seats", "valid_from", "valid_until", "licence_end_policy"]
        widgets = {
            "valid_from": forms.DateInput(attrs={"type": "date"}),
            "valid_until": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Left out (an older form, a script): the policy stays as it is.
        self.fields["licence_end_policy"].required = False

    def clean_licence_end_policy(self) -> str:
        return str(self.cleaned_data.get("licence_end_policy") or self.instance.licence_end_policy)


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=100, help_text=_("What the token is for, e.g. a script's name.")
    )
    reason = ReasonField()
