"""The engine's own rows: the job queue, rate-limit buckets, schedules, reconcile
passes, the vendor users that match no member, campaigns, and the seat queue.

Why our own queue and not django-tasks-db: see docs/engine.md ("Why a Job model").
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from campusconf.accounts.models import Account

# The seat queue's model, defined apart only to keep this module short; imported here so
# Django registers it with the app's other models and callers find it here like them.
from campusconf.provisioning.seat_wait import SeatWait as SeatWait
from campusconf.services.models import Service


class Lane(models.IntegerChoices):
    """Lower runs first: a member waiting at the portal goes ahead of a campaign."""

    MEMBER = 0, _("member")
    STAFF = 10, _("staff")
    ENGINE = 20, _("engine")
    BULK = 30, _("bulk")


class Campaign(models.Model):
    class Status(models.TextChoices):
        # Scheduled → enrolling (a worker applies for the cohort, batch by batch) →
        # running (jobs work through the bulk lane) → done; see provisioning/verbs/campaign_enrolment.py.
        SCHEDULED = "scheduled", _("scheduled")
        ENROLLING = "enrolling", _("enrolling")
        RUNNING = "running", _("running")
        PAUSED = "paused", _("paused")
        CANCELLED = "cancelled", _("cancelled")
        DONE = "done", _("done")

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="campaigns")
    cohort = models.JSONField(_("cohort"), default=dict)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RUNNING
    )
    planned = models.PositiveIntegerField(_("planned"), default=0)
    skipped = models.PositiveIntegerField(_("skipped"), default=0)
    # When the workers start enrolling (a scheduled start); null: at once.
    start_at = models.DateTimeField(_("start at"), null=True, blank=True)
    # Enrolment is resumable: members are taken in primary-key order, and the last one
    # handled commits with its batch; a worker holds the lease while it enrols.
    enroll_cursor = models.PositiveBigIntegerField(default=0)
    enrolled_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")

    def __str__(self) -> str:
        return f"campaign {self.pk} @ {self.service.slug} ({self.status})"


class CampaignSkip(models.Model):
    """A member (or a listed common ID) a campaign did not invite, and why: the
    answer to "why did these students get nothing?" in the failures CSV."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="skips")
    member = models.ForeignKey(
        "members.Member", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    common_id = models.CharField(max_length=20)
    code = models.CharField(max_length=30)
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("campaign skip")
        verbose_name_plural = _("campaign skips")

    def __str__(self) -> str:
        return f"{self.common_id} skipped by campaign {self.campaign_id}: {self.code}"


class Job(models.Model):
    """One unit of work: bring one account (or one service) in step with the vendor.

    An account job does not carry *what* to do: the worker re-reads the account and
    converges it (create, re-invite, deactivate, delete, observe). ``kind`` only says
    what must be forced (a fresh invitation) or that it is a whole-service job.
    """

    class Kind(models.TextChoices):
        SYNC = "sync", _("bring the account in step")
        REINVITE = "reinvite", _("send a fresh invitation")
        OBSERVE = "observe", _("re-read the account at the vendor")
        RECONCILE = "reconcile", _("reconcile the whole service")

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")
        CANCELLED = "cancelled", _("cancelled")

    LIVE = (Status.QUEUED, Status.RUNNING)

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="jobs")
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    lane = models.SmallIntegerField(_("lane"), choices=Lane.choices, default=Lane.ENGINE)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    run_after = models.DateTimeField(_("run after"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # Set while a claim is held by a worker; a lease in the past means the worker died.
    lease_until = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=80, blank=True)
    # Someone asked for more work while this job ran: run it once more after.
    again = models.BooleanField(default=False)
    next_kind = models.CharField(max_length=10, choices=Kind.choices, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(status__in=["queued", "running"]),
                name="job_one_live_per_account",
            ),
        ]
        indexes = [
            models.Index(
                fields=["lane", "run_after"],
                condition=Q(status="queued"),
                name="job_claimable",
            ),
            # Only the jobs held by a worker: a lease is looked for only there, and the
            # queued and finished jobs then write no entry here.
            models.Index(
                fields=["lease_until"], condition=Q(status="running"), name="job_running_lease"
            ),
        ]

    def __str__(self) -> str:
        return f"job {self.pk} {self.kind} account={self.account_id} ({self.status})"


class RateBucket(models.Model):
    """A token bucket shared by every worker of one vendor account and one category.

    ``tokens`` may go negative: each caller reserves the next slot and sleeps until
    it, so callers are paced instead of bouncing off 429s.
    """

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="rate_buckets")
    category = models.CharField(max_length=20)
    rate = models.FloatField()  # tokens per second
    burst = models.FloatField()
    tokens = models.FloatField()
    stamp = models.FloatField()  # Unix time of the last refill
    paused_until = models.DateTimeField(null=True, blank=True)
    pause_reason = models.CharField(max_length=200, blank=True)
    day = models.DateField(null=True, blank=True)
    day_count = models.PositiveIntegerField(default=0)
    waits = models.PositiveBigIntegerField(default=0)
    rate_limited = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service", "category"], name="bucket_one_per_category")
        ]

    def __str__(self) -> str:
        return f"{self.service.slug}/{self.category}"


class Schedule(models.Model):
    """Periodic work without cron: the worker that moves ``next_run_at`` first runs it."""

    name = models.CharField(max_length=80, unique=True)
    interval_seconds = models.PositiveIntegerField()
    next_run_at = models.DateTimeField()
    last_run_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


class ReconcilePass(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        HELD = "held", _("held for approval")
        APPROVED = "approved", _("approved")
        FAILED = "failed", _("failed")

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="reconciles")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    seen = models.PositiveIntegerField(default=0)
    changes = models.JSONField(default=dict)
    message = models.TextField(blank=True)

    class Meta:
        verbose_name = _("reconcile pass")
        verbose_name_plural = _("reconcile passes")

    def __str__(self) -> str:
        return f"reconcile {self.service.slug} {self.started_at:%Y-%m-%d %H:%M} ({self.status})"


class UnmatchedVendorUser(models.Model):
    """A vendor user that matches no member: reported to staff, never deleted by us."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="unmatched")
    email = models.CharField(max_length=254)
    vendor_id = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=10, blank=True)
    first_seen_at = models.DateTimeField()

    class Meta:
        verbose_name = _("unmatched vendor user")
        verbose_name_plural = _("unmatched vendor users")
        constraints = [
            models.UniqueConstraint(fields=["service", "email"], name="unmatched_one_per_address")
        ]

    def __str__(self) -> str:
        return f"{self.email} @ {self.service.slug}"


class VendorCallCount(models.Model):
    """Vendor calls by outcome, flushed by workers in batches, for /metrics."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+")
    outcome = models.CharField(max_length=20)
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service", "outcome"], name="callcount_one_per_outcome")
        ]

    def __str__(self) -> str:
        return f"{self.outcome}: {self.count}"


class WebhookEvent(models.Model):
    """A vendor's event notification as received (Zoom's webhooks).

    The view records it with one INSERT and answers at once (Zoom wants a 2xx within
    3 seconds); the workers' ``webhooks`` schedule acts on it afterwards. One row per
    body: Zoom's retries and any replay of the same event are the same row.
    """

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+")
    digest = models.CharField(max_length=64)  # SHA-256 of the body
    event = models.CharField(max_length=100)
    vendor_user_id = models.CharField(max_length=200, blank=True, default="")
    email = models.CharField(max_length=320, blank=True, default="")
    received_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service", "digest"], name="webhook_event_once")
        ]
        indexes = [
            models.Index(
                fields=["received_at"],
                condition=Q(processed_at__isnull=True),
                name="webhook_event_to_do",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} @ {self.received_at:%Y-%m-%d %H:%M:%S}"


class VendorToken(models.Model):
    """A service's vendor token, shared by every worker process on every machine.

    Zoom knocks out a token as soon as another is issued, and Webex's renewed refresh
    token must be kept (docs/vendors.md, Errata Z-a and W-h), so a token lives here, not
    in a process. It is stored as the vendor must receive it: it is short-lived, the
    app's secret (which stays in the environment) is needed to get another, and it is
    never logged. ``credential`` is a digest of the credential it came from. A renewal is
    written only over the ``generation`` it replaces, by the process holding the renewal
    lease (``renewing_until``, Unix time): one process at a time asks the vendor.
    """

    service = models.OneToOneField(Service, on_delete=models.CASCADE, related_name="vendor_token")
    credential = models.CharField(max_length=64, blank=True)
    access_token = models.TextField(blank=True)
    expires_at = models.FloatField(null=True, blank=True)  # Unix time
    refresh_token = models.TextField(blank=True)
    refresh_expires_at = models.FloatField(null=True, blank=True)
    scopes = models.TextField(blank=True)  # as granted, space-separated (Zoom says)
    generation = models.PositiveBigIntegerField(default=0)
    renewing_until = models.FloatField(null=True, blank=True)
    renewer = models.CharField(max_length=80, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("vendor token")
        verbose_name_plural = _("vendor tokens")

    def __str__(self) -> str:  # never the token itself
        return f"{self.service.slug} token, generation {self.generation}"


class ServiceProblem(models.Model):
    """Why a service's work waits: the vendor refused its credential or a scope, or a
    setting its connector needs is missing. A problem of the service, not of a member:
    while it is open (``resolved_at`` empty) no job of the service is claimed, nothing is
    marked failed, and a probe tries the credential again now and then (``service_access``).
    One row per service, kept after it is resolved for the dashboard's "last problem".
    """

    class Kind(models.TextChoices):
        CREDENTIAL = "credential", _("credential refused")
        PERMISSION = "permission", _("permission missing")
        CONFIGURATION = "configuration", _("configuration missing")

    service = models.OneToOneField(Service, on_delete=models.CASCADE, related_name="problem")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    detail = models.TextField(_("detail"), blank=True)  # the vendor's words, or what is missing
    scopes = models.CharField(max_length=300, blank=True)  # the vendor's alternatives
    operation = models.CharField(max_length=80, blank=True)  # the call that was refused
    since = models.DateTimeField(_("since"))
    last_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    next_probe_at = models.DateTimeField()
    probe_seconds = models.PositiveIntegerField(default=60)
    last_probe_at = models.DateTimeField(null=True, blank=True)
    last_probe_result = models.TextField(blank=True)
    # One staff mail per problem: due when it opens, sent by the workers' schedule.
    notify_due = models.BooleanField(default=False)
    notified_at = models.DateTimeField(null=True, blank=True)
    notified_kind = models.CharField(max_length=16, blank=True)

    class Meta:
        verbose_name = _("service problem")
        verbose_name_plural = _("service problems")

    def __str__(self) -> str:
        state = "resolved" if self.resolved_at else "open"
        return f"{self.service.slug}: {self.kind} ({state})"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()


class Watch(models.Model):
    """An account waiting on its member or the vendor, and when to read it again.

    A row exists only while the account waits (invited, conversion pending, unlicensed:
    ``provisioning.engine.watch``); the workers' ``watch`` schedule reads the due ones one user at
    a time, often while the wait is young or the member has the portal open, rarely
    later. The full reconcile pass stays the net for everyone else.
    """

    account = models.OneToOneField(
        Account, on_delete=models.CASCADE, primary_key=True, related_name="watch"
    )
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+", db_index=False)
    since = models.DateTimeField()  # when the wait began: the back-off counts from here
    next_check_at = models.DateTimeField()
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["service", "next_check_at"], name="watch_due"),
        ]

    def __str__(self) -> str:
        return f"watch account={self.account_id} next={self.next_check_at:%Y-%m-%d %H:%M:%S}"
