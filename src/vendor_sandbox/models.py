"""The sandbox's own state: vendor users, credentials, links, mails and counters.

Times are stored as sandbox time (real time + the movable clock's offset), so moving the
clock ages invitations, tokens and page tokens the same way the vendors' would age.
"""

from __future__ import annotations

from django.db import models


class SandboxState(models.Model):
    """One row: the clock offset, fault settings, variants and the admin token, shared by workers."""

    clock_offset = models.FloatField(default=0.0)
    faults = models.JSONField(default=dict)
    variants = models.JSONField(default=dict)  # choices off their default (variants.py)
    fault_draws = models.BigIntegerField(default=0)
    webhook_url = models.CharField(max_length=500, blank=True, default="")
    admin_token = models.CharField(max_length=100)
    # The mail domains the Webex org has verified (W-f); None: SANDBOX_WEBEX_VERIFIED_DOMAINS.
    webex_verified_domains = models.JSONField(null=True, default=None)

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.pk}"


class WebexOrg(models.Model):
    org_id = models.CharField(max_length=200, primary_key=True)
    name = models.CharField(max_length=200)
    token = models.CharField(max_length=200, unique=True)

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.pk}"


class WebexLicense(models.Model):
    license_id = models.CharField(max_length=300, primary_key=True)
    org = models.ForeignKey(WebexOrg, on_delete=models.CASCADE)
    name = models.CharField(max_length=200)
    total_units = models.IntegerField()
    site_url = models.CharField(max_length=200, blank=True, default="")

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.pk}"


class WebexPerson(models.Model):
    person_id = models.CharField(max_length=200, unique=True)
    org = models.ForeignKey(WebexOrg, on_delete=models.CASCADE)
    email = models.CharField(max_length=320)
    display_name = models.CharField(max_length=300, blank=True, default="")
    nick_name = models.CharField(max_length=300, blank=True, default="")
    first_name = models.CharField(max_length=300, blank=True, default="")
    last_name = models.CharField(max_length=300, blank=True, default="")
    roles = models.JSONField(default=list)
    licenses = models.JSONField(default=list)
    extra = models.JSONField(default=dict)  # other documented fields, kept as given
    created = models.DateTimeField()
    last_modified = models.DateTimeField()
    last_activity = models.DateTimeField(null=True)
    invite_pending = models.BooleanField(default=True)
    login_enabled = models.BooleanField(default=True)
    password_hash = models.CharField(max_length=300, blank=True, default="")
    invited_at = models.DateTimeField(null=True)
    visible_at = models.DateTimeField()  # eventual-consistency fault: hidden until then

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "email"], name="webex_org_email")]

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.pk}"


class WebexApp(models.Model):
    """A service app a full admin authorised for the organisation (Control Hub)."""

    client_id = models.CharField(max_length=100, primary_key=True)
    client_secret = models.CharField(max_length=100)
    org = models.ForeignKey(WebexOrg, on_delete=models.CASCADE)
    scopes = models.JSONField(default=list)
    # The authorisation revoked: its access and refresh tokens stop working at once.
    disabled = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.pk}"


class WebexToken(models.Model):
    """A service app's access or refresh token; times on the sandbox clock."""

    token = models.CharField(max_length=200, primary_key=True)
    kind = models.CharField(max_length=10)  # access | refresh
    app = models.ForeignKey(WebexApp, on_delete=models.CASCADE)
    expires_at = models.DateTimeField()
    refresh = models.CharField(max_length=200, blank=True, default="")  # an access token's

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.pk}"


class WebexJob(models.Model):
    job_id = models.CharField(max_length=100, primary_key=True)
    org = models.ForeignKey(WebexOrg, on_delete=models.CASCADE)
    created = models.DateTimeField()
    result = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.pk}"


class ZoomAccount(models.Model):
    """The Zoom account and its Server-to-Server OAuth app (one app per account here)."""

    account_id = models.CharField(max_length=100, primary_key=True)
    client_id = models.CharField(max_length=100, unique=True)
    client_secret = models.CharField(max_length=100)
    webhook_secret = models.CharField(max_length=100)
    scopes = models.JSONField(default=list)  # the app's scopes (Marketplace, "Scopes")
    # The app deactivated: no token is issued, and those issued stop working.
    disabled = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.pk}"


class ZoomToken(models.Model):
    token = models.CharField(max_length=200, primary_key=True)
    account = models.ForeignKey(ZoomAccount, on_delete=models.CASCADE)
    expires_at = models.DateTimeField()
    scopes = models.JSONField(default=list)  # as granted when issued; added later need a new one
    issued_at = models.DateTimeField(null=True)
    superseded_at = models.DateTimeField(null=True)  # a newer token of the app was issued

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.pk}"


class ZoomUser(models.Model):
    user_id = models.CharField(max_length=100, unique=True)
    account = models.ForeignKey(ZoomAccount, on_delete=models.CASCADE)
    email = models.CharField(max_length=320)
    first_name = models.CharField(max_length=64, blank=True, default="")
    last_name = models.CharField(max_length=64, blank=True, default="")
    display_name = models.CharField(max_length=200, blank=True, default="")
    type = models.IntegerField(default=1)
    status = models.CharField(max_length=20)  # active | inactive | pending
    verified = models.IntegerField(default=0)
    dept = models.CharField(max_length=200, blank=True, default="")
    role_id = models.CharField(max_length=20, default="2")
    login_types = models.JSONField(default=list)
    extra = models.JSONField(default=dict)
    password_hash = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField()
    invited_at = models.DateTimeField(null=True)
    last_login_time = models.DateTimeField(null=True)
    visible_at = models.DateTimeField()
    action = models.CharField(max_length=20)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "email"], name="zoom_acct_email")]
        # ``GET /users`` counts the listed status on every page (total_records): covered
        # by this index it reads no table rows, 25 -> 7 ms a page at 100,000 users.
        indexes = [
            models.Index(
                fields=["account", "status", "visible_at", "invited_at"], name="zoom_user_list"
            )
        ]

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.pk}"


class ZoomPageToken(models.Model):
    token = models.CharField(max_length=100, primary_key=True)
    account = models.ForeignKey(ZoomAccount, on_delete=models.CASCADE)
    status = models.CharField(max_length=20)
    page_size = models.IntegerField()
    after_seq = models.BigIntegerField()
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.pk}"


class PersonalAccount(models.Model):
    """A consumer account outside any organisation (Webex free, Zoom Basic)."""

    vendor = models.CharField(max_length=10)
    email = models.CharField(max_length=320)
    display_name = models.CharField(max_length=300, blank=True, default="")
    first_name = models.CharField(max_length=100, blank=True, default="")
    last_name = models.CharField(max_length=100, blank=True, default="")
    password_hash = models.CharField(max_length=300, blank=True, default="")
    login_type = models.IntegerField(default=100)  # Zoom login_type: 1 Google, 100 e-mail
    # Zoom: a paid account, or a user of another organisation's account, which
    # ``action=create`` cannot invite (Z-d); a free one gets the join request instead.
    paid = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["vendor", "email"], name="personal_email")]

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.pk}"


class WebhookDelivery(models.Model):
    """A Zoom event notification on its way to the receiver: tried at once, then again
    5, 20 and 60 minutes later on the sandbox clock, then dropped for good."""

    url = models.CharField(max_length=500)
    secret = models.CharField(max_length=100)
    event = models.CharField(max_length=100)
    body = models.TextField()
    attempts = models.IntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)  # sandbox time
    status = models.CharField(max_length=20, default="queued")  # queued|delivered|dropped
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.pk}"


class Link(models.Model):
    """A one-time link mailed to someone: activation, conversion, join, password reset."""

    token = models.CharField(max_length=100, primary_key=True)
    kind = models.CharField(max_length=30)
    email = models.CharField(max_length=320)
    target = models.CharField(max_length=200, blank=True, default="", db_index=True)
    created_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.pk}"


class Mail(models.Model):
    vendor = models.CharField(max_length=10)
    kind = models.CharField(max_length=30)
    to = models.CharField(max_length=320)
    subject = models.CharField(max_length=300)
    template = models.CharField(max_length=100)
    context = models.JSONField(default=dict)  # rendered when delivered or listed
    links = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    status = models.CharField(max_length=20, default="queued")  # queued|sent|failed|recorded
    error = models.TextField(blank=True, default="")

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.pk}"


class Counter(models.Model):
    key = models.CharField(max_length=300, primary_key=True)
    count = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.pk}"


class RateWindow(models.Model):
    key = models.CharField(max_length=200, primary_key=True)  # "<bucket>@<window start>"
    count = models.IntegerField(default=0)
    expires = models.FloatField()

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.pk}"
