"""The form of the back office's rehearsal page: the real cohorts, the run's size and
seed, and the mix (the default, edited on the page, or uploaded)."""

from __future__ import annotations

import logging
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from campusconf.rehearsal.mix import DEFAULT_MIX, Mix, MixError, parse_mix
from campusconf.services.models import Service

log = logging.getLogger("campusconf.backoffice")

MIX_MAX_BYTES = 64 * 1024
MAX_MEMBERS = 1000  # larger runs take hours: the command line (bench/) is the place
MAX_COHORT = 1_000_000


class RehearsalForm(forms.Form):
    members = forms.IntegerField(
        label=_("Simulated members"),
        min_value=1,
        max_value=MAX_MEMBERS,
        initial=200,
        help_text=_("Members played in the rehearsal (at most 1,000 here)."),
    )
    seed = forms.IntegerField(
        label=_("Seed"),
        min_value=0,
        max_value=2**31 - 1,
        initial=1,
        help_text=_("The same seed gives the same members and the same behaviour."),
    )
    manual = forms.BooleanField(
        label=_("Also run the manual process of the help pages beside it (twice the time)"),
        required=False,
    )
    mix_text = forms.CharField(
        label=_("Mix of members"),
        widget=forms.Textarea(attrs={"rows": 16, "spellcheck": "false"}),
        help_text=_("TOML; every value is checked before the run starts."),
    )
    mix_file = forms.FileField(
        label=_("Or upload a mix file (TOML, UTF-8)"),
        required=False,
        help_text=_("An uploaded file replaces the text above."),
    )

    def __init__(self, *args: Any, services: list[Service], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.services = services
        self.fields["mix_text"].initial = DEFAULT_MIX.read_text(encoding="utf-8")
        for service in services:
            self.fields[f"cohort_{service.slug}"] = forms.IntegerField(
                label=_("Real cohort at %(service)s") % {"service": service.name},
                min_value=0,
                max_value=MAX_COHORT,
                initial=0,
                help_text=_("Members who will need an account at the start of term."),
            )

    def cohort_fields(self) -> list[forms.BoundField]:
        return [self[f"cohort_{s.slug}"] for s in self.services]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("mix_file")
        text = data.get("mix_text") or ""
        if upload is not None:
            if upload.size > MIX_MAX_BYTES:
                raise forms.ValidationError(
                    _("The mix file is too large: at most 64 KB."), code="too_large"
                )
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise forms.ValidationError(
                    _("The mix file is not UTF-8 text."), code="encoding"
                ) from None
        if text:
            try:
                data["mix"] = parse_mix(text, "(the mix on this page)")
            except MixError as error:
                log.info("rehearsal page: mix refused: %s", error)
                # The checker's words name the value at fault; they are in English.
                raise forms.ValidationError(
                    _("The mix is refused, nothing was started: %(error)s"),
                    code="mix",
                    params={"error": str(error)},
                ) from None
            data["mix_text"] = text
        sizes = [data.get(f"cohort_{s.slug}") or 0 for s in self.services]
        if self.services and not any(sizes):
            raise forms.ValidationError(
                _("Enter the real cohort of at least one service."), code="no_cohort"
            )
        return data

    @property
    def mix(self) -> Mix:
        mix: Mix = self.cleaned_data["mix"]
        return mix
