"""The staff mail of a service problem: one per problem, Japanese then English.

Staff have no language of their own in CampusConf, so the mail carries both, each in
full; the subject too. It goes to ``CAMPUSCONF_OPS_ADDRESS`` (by default the help desk).
"""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from campusconf.core.mail import Mail
from campusconf.provisioning.engine.access_fixes import credential_variables, explain
from campusconf.provisioning.models import ServiceProblem

LANGUAGES = ("ja", "en")


def send_problem_mail(problem: ServiceProblem) -> None:
    service = problem.service
    variables = credential_variables(service.vendor, service.connector_settings or {})
    url = settings.CAMPUSCONF_PUBLIC_URL.rstrip("/") + reverse(
        "backoffice:service", args=[service.slug]
    )
    subjects, bodies = [], []
    for language in LANGUAGES:
        with translation.override(language):
            context = {
                "service": service.name,
                "problem": problem,
                "explained": explain(
                    service.vendor, problem.kind, problem.scope_list, problem.detail, variables
                ),
                "url": url,
                "university": settings.CAMPUSCONF_UNIVERSITY_NAME,
            }
            subjects.append(
                render_to_string("provisioning/mail/service_problem_subject.txt", context).strip()
            )
            bodies.append(render_to_string("provisioning/mail/service_problem.txt", context))
    message = Mail(
        " / ".join(subjects),
        "\n-----\n\n".join(bodies),
        settings.DEFAULT_FROM_EMAIL,
        [settings.CAMPUSCONF_OPS_ADDRESS],
    )
    message.send()
