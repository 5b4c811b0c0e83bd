"""A service's access problem: the vendor refuses its credential or a scope, or a setting
its connector needs is missing.

Such a failure belongs to the service, not to the member a job was about: retrying the
job would only meet the same refusal, and failing the account would blame the member.
So `report` opens the service's `ServiceProblem` (or keeps it open). While it is open,
``job_queue.claim_batch`` claims none of the service's jobs, the jobs that met the refusal
wait without using up an attempt, and the scheduled reconcile passes skip the service.
The workers' ``service-access`` schedule runs `run`: each open problem that is due gets
one probe — a token and one read with the service's own credential, by one worker — and
when it passes the problem is resolved and the work resumes by itself. The staff get one
mail per problem (`notify_due`), in Japanese and English, to the operations address.

A problem that comes back within `RELAPSE` of being resolved (a scope only a write can
reveal is still missing) is probed less and less often, up to `LONGEST_PROBE`, so a
refusal that keeps coming back costs one burst of calls now and then, not a storm.
"""

from __future__ import annotations

import datetime
import logging
import smtplib

from django.db import IntegrityError, transaction

from campusconf.connectors.base import Preflight
from campusconf.connectors.outcomes import AuthProblem, NotAuthorised, Ok, Outcome
from campusconf.connectors.tokens import Token
from campusconf.core import clock
from campusconf.provisioning.engine import vendors
from campusconf.provisioning.engine.service_access_mail import send_problem_mail
from campusconf.provisioning.models import Job, ServiceProblem
from campusconf.services.models import Service

log = logging.getLogger("campusconf.provisioning")

FIRST_PROBE = 60  # seconds
LONGEST_PROBE = 30 * 60
RELAPSE = datetime.timedelta(minutes=10)
QUIET_MAIL = datetime.timedelta(hours=6)  # the same problem again soon: no second mail
# A read each vendor answers for any working credential, and that writes nothing.
READS: dict[str, tuple[str, dict[str, str | int]]] = {
    "zoom": ("/users", {"status": "active", "page_size": 1}),
    "webex": ("/people", {"max": 1}),
}
WEBEX_LICENCES = "spark-admin:licenses_read"
PAUSED = "service paused"  # how the error of a job that waits for the service begins
Kind = ServiceProblem.Kind


def report(service_id: int, out: NotAuthorised, operation: str) -> datetime.datetime:
    """The vendor refused the service: open its problem. When to try again (the probe)."""
    kind = Kind.PERMISSION if out.problem is AuthProblem.PERMISSION else Kind.CREDENTIAL
    detail = out.reason + (f" [tracking {out.tracking_id}]" if out.tracking_id else "")
    return _open(service_id, kind, detail, out.missing_scopes, operation)


def report_configuration(service_id: int, detail: str, operation: str) -> datetime.datetime:
    return _open(service_id, Kind.CONFIGURATION, detail, (), operation)


def paused(service_id: int) -> bool:
    return ServiceProblem.objects.filter(service_id=service_id, resolved_at__isnull=True).exists()


def _open(
    service_id: int, kind: str, detail: str, scopes: tuple[str, ...], operation: str
) -> datetime.datetime:
    now = clock.now()
    with transaction.atomic():
        row = ServiceProblem.objects.select_for_update().filter(service_id=service_id).first()
        if row is not None and row.resolved_at is None:
            ServiceProblem.objects.filter(pk=row.pk).update(last_seen_at=now)
            return row.next_probe_at
        relapse = (
            row is not None and row.resolved_at is not None and now - row.resolved_at < RELAPSE
        )
        seconds = min(2 * row.probe_seconds, LONGEST_PROBE) if row and relapse else FIRST_PROBE
        mailed_lately = (
            row is not None
            and row.notified_at is not None
            and row.notified_kind == kind
            and now - row.notified_at < QUIET_MAIL
        )
        fields = {
            "kind": kind,
            "detail": detail[:2000],
            "scopes": " ".join(scopes)[:300],
            "operation": operation[:80],
            "since": now,
            "last_seen_at": now,
            "resolved_at": None,
            "next_probe_at": now + datetime.timedelta(seconds=seconds),
            "probe_seconds": seconds,
            "last_probe_at": None,
            "last_probe_result": "",
            "notify_due": not mailed_lately,
        }
        if row is None:
            try:
                with transaction.atomic():
                    ServiceProblem.objects.create(service_id=service_id, **fields)
            except IntegrityError:  # another worker opened it first
                return ServiceProblem.objects.get(service_id=service_id).next_probe_at
        else:
            ServiceProblem.objects.filter(pk=row.pk).update(**fields)
    log.warning(
        "service %s paused: %s problem on %s: %s", service_id, kind, operation or "-", detail
    )
    return now + datetime.timedelta(seconds=seconds)


def run(now: datetime.datetime | None = None) -> None:
    """The ``service-access`` schedule: probe what is due, then mail what is due."""
    probe_due(now)
    notify_due()


def probe_due(now: datetime.datetime | None = None) -> int:
    """Probe each open problem that is due; the number resolved."""
    now = now or clock.now()
    resolved = 0
    due = ServiceProblem.objects.filter(resolved_at__isnull=True, next_probe_at__lte=now)
    for problem in due.select_related("service"):
        later = now + datetime.timedelta(seconds=problem.probe_seconds)
        claimed = ServiceProblem.objects.filter(
            pk=problem.pk, next_probe_at=problem.next_probe_at, resolved_at__isnull=True
        ).update(next_probe_at=later)
        if not claimed:
            continue  # another worker probes it
        try:
            failure = check(problem.service, problem.kind, problem.scope_list)
        except Exception as exc:  # a probe must never stop the worker's schedules
            log.exception("service %s: the probe failed", problem.service.slug)
            failure = f"{type(exc).__name__}: {exc}"
        stamp = clock.now()
        if failure is None:
            ServiceProblem.objects.filter(pk=problem.pk, resolved_at__isnull=True).update(
                resolved_at=stamp, last_probe_at=stamp, last_probe_result=""
            )
            # The jobs the refusal sent to wait go now, not at the time they were given.
            Job.objects.filter(
                service_id=problem.service_id,
                status=Job.Status.QUEUED,
                run_after__gt=stamp,
                last_error__startswith=PAUSED,
            ).update(run_after=stamp)
            log.warning("service %s works again: its jobs resume", problem.service.slug)
            resolved += 1
        else:
            ServiceProblem.objects.filter(pk=problem.pk).update(
                last_probe_at=stamp, last_probe_result=failure[:2000]
            )
            log.info("service %s still paused: %s", problem.service.slug, failure)
    return resolved


def check(service: Service, kind: str, scopes: list[str]) -> str | None:
    """None when the service's credential works again (as far as a read can tell); else why
    not. A few calls at most: a token, and one or two reads."""
    try:
        conn = vendors.connector_for(service)
    except vendors.ServiceConfigError as exc:
        return str(exc)
    if not isinstance(conn, Preflight):
        return None  # a SCIM service: its connector builds, nothing more to ask
    if kind == Kind.PERMISSION and service.vendor == "zoom":
        # A token keeps the scopes it was issued with: ask for one with today's scopes.
        token = conn.token(fresh=True)
        if not isinstance(token, Token):
            return _why(token)
        if scopes and not set(scopes) & set(token.scopes):
            return f"the app's token still lacks {' or '.join(scopes)}"
    path, params = READS.get(service.vendor, READS["zoom"])
    if service.vendor == "webex" and WEBEX_LICENCES in scopes:
        path, params = "/licenses", {}  # the scope a people read would not show
    answer = conn.probe(path, params)
    return None if isinstance(answer.outcome, Ok) else _why(answer.outcome)


def _why(outcome: Outcome) -> str:
    return getattr(outcome, "reason", "") or type(outcome).__name__


def notify_due() -> int:
    """Mail the staff about each problem that has not been told yet; the number sent."""
    sent = 0
    for problem in ServiceProblem.objects.filter(notify_due=True).select_related("service"):
        try:
            send_problem_mail(problem)
        except (OSError, smtplib.SMTPException):
            log.exception(
                "service %s: the staff mail could not be sent; tried again later",
                problem.service.slug,
            )
            continue
        ServiceProblem.objects.filter(pk=problem.pk).update(
            notify_due=False, notified_at=clock.now(), notified_kind=problem.kind
        )
        sent += 1
    return sent
