"""The dashboard's banner for a paused service: what the vendor refused, what to fix.

The engine pauses a service whose vendor refuses its credential or a scope
(``provisioning.engine.service_access``); staff see it here first, on the dashboard and on the
service's page, in the words of ``provisioning.engine.access_fixes``, the same as their mail.
"""

from __future__ import annotations

from dataclasses import dataclass

from campusconf.provisioning.engine.access_fixes import Explanation, credential_variables, explain
from campusconf.provisioning.models import ServiceProblem
from campusconf.services.models import Service


@dataclass(frozen=True)
class ProblemBanner:
    problem: ServiceProblem
    explained: Explanation


def _banner(problem: ServiceProblem, service: Service) -> ProblemBanner:
    variables = credential_variables(service.vendor, service.connector_settings or {})
    explained = explain(service.vendor, problem.kind, problem.scope_list, problem.detail, variables)
    return ProblemBanner(problem, explained)


def open_banners(services: list[Service]) -> dict[int, ProblemBanner]:
    """The banners of the given services that are paused now, by service id."""
    by_id = {s.pk: s for s in services}
    problems = ServiceProblem.objects.filter(service_id__in=by_id, resolved_at__isnull=True)
    return {p.service_id: _banner(p, by_id[p.service_id]) for p in problems}


def banner_for(service: Service) -> ProblemBanner | None:
    return open_banners([service]).get(service.pk)
