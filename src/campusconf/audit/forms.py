from django import forms
from django.utils.translation import gettext_lazy as _

from campusconf.audit.actors import Kind

KINDS = [("", _("anyone")), *Kind.choices]


class AuditFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of actor"), choices=KINDS, required=False)
    actor = forms.CharField(label=_("Who (user name)"), required=False, max_length=150)
    action = forms.CharField(label=_("Action"), required=False, max_length=64)
    target_type = forms.CharField(label=_("Target type"), required=False, max_length=64)
    target_id = forms.CharField(label=_("Target id"), required=False, max_length=64)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
