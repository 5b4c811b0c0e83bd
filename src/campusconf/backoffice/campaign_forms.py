import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campusconf.backoffice.campaigns import Cohort, parse_common_ids
from campusconf.backoffice.forms import ReasonField
from campusconf.members import affiliations
from campusconf.services.models import Service

ROLES = [("faculty", _("faculty")), ("staff", _("staff")), ("student", _("student"))]
MAX_UPLOAD = 2 * 1024 * 1024


def _affiliations() -> list[tuple[str, str]]:
    # The value stays the English name (the cohort's key); the label is the reader's.
    return affiliations.choices()


class CohortForm(forms.Form):
    service = forms.ModelChoiceField(
        label=_("Service"), queryset=Service.objects.filter(enabled=True), to_field_name="slug"
    )
    roles = forms.MultipleChoiceField(
        label=_("Roles"), choices=ROLES, required=False, widget=forms.CheckboxSelectMultiple
    )
    created_before = forms.DateField(
        label=_("University account created before"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The roster cut-off date: members whose account existed before this day."),
    )
    affiliations = forms.MultipleChoiceField(
        label=_("Affiliations"),
        choices=_affiliations,
        required=False,
        # Tall enough to read a faculty's list without scrolling a four-line box.
        widget=forms.SelectMultiple(attrs={"size": 10, "class": "affiliations"}),
    )
    common_ids = forms.CharField(
        label=_("Common IDs"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Pasted: any text; every 10-digit number in it is taken."),
    )
    common_id_file = forms.FileField(label=_("…or a file of common IDs"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        text = data.get("common_ids") or ""
        upload = data.get("common_id_file")
        if upload is not None:
            if upload.size > MAX_UPLOAD:
                raise forms.ValidationError(_("The file is larger than 2 MB."), code="too_big")
            text += "\n" + upload.read().decode("utf-8", errors="replace")
        data["id_list"] = parse_common_ids(text)
        if (text.strip() or upload is not None) and not data["id_list"]:
            raise forms.ValidationError(
                _("No 10-digit common ID was found in the list."), code="no_ids"
            )
        filters = data.get("roles") or data.get("created_before") or data.get("affiliations")
        if not filters and not data["id_list"]:
            raise forms.ValidationError(
                _("Choose at least one role, a cut-off date, an affiliation or a list."),
                code="empty_cohort",
            )
        return data

    def cohort(self) -> Cohort:
        d = self.cleaned_data
        return Cohort(
            roles=list(d.get("roles") or []),
            created_before=d.get("created_before"),
            affiliations=list(d.get("affiliations") or []),
            common_ids=d["id_list"],
        )


class StartForm(CohortForm):
    reason = ReasonField()
    start_at = forms.DateTimeField(
        label=_("Start at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_(
            "Empty: start now. Otherwise the workers start it then; it can be cancelled before."
        ),
    )

    def clean_start_at(self) -> datetime.datetime | None:
        value: datetime.datetime | None = self.cleaned_data.get("start_at")
        if value is not None and value <= timezone.now():
            raise forms.ValidationError(
                _("The start time has passed; leave it empty to start now."), code="past"
            )
        return value
