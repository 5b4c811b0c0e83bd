"""Webex's activation, conversion, sign-in, password and profile pages (S6–S9)."""

from __future__ import annotations

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.csrf import csrf_protect

from vendor_sandbox import clock, links, writelock
from vendor_sandbox.conf import CONFIG
from vendor_sandbox.models import PersonalAccount, WebexLicense, WebexPerson
from vendor_sandbox.pages import Button, Field, Page, password_problem, show
from vendor_sandbox.webex import service

SESSION_KEY = "webex_person"


def _me(request: HttpRequest) -> WebexPerson | None:
    person_id = request.session.get(SESSION_KEY)
    return WebexPerson.objects.filter(person_id=person_id).first() if person_id else None


def _sign_in(request: HttpRequest, person: WebexPerson) -> None:
    request.session[SESSION_KEY] = person.person_id
    WebexPerson.objects.filter(pk=person.pk).update(last_activity=clock.now())


def _expired(request: HttpRequest) -> HttpResponse:
    return show(
        request,
        Page(
            "webex",
            "This link has expired",
            lead="The invitation or link you followed is no longer valid.",
            paragraphs=[
                f"Invitations are valid for {CONFIG.webex_invite_days:g} days. "
                "Ask your administrator to send the invitation again."
            ],
            links=[("Sign in", "/webex/signin")],
            status=410,
        ),
    )


def _password_page(request: HttpRequest, person: WebexPerson, error: str = "") -> HttpResponse:
    return show(
        request,
        Page(
            "webex",
            "Create a new password",
            lead=f"for {person.email}",
            error=error,
            fields=[
                Field("password", "New password", "password", autocomplete="new-password"),
                Field("confirm", "Confirm password", "password", autocomplete="new-password"),
            ],
            buttons=[Button("Save & Sign in")],
            policy=True,
            status=400 if error else 200,
        ),
    )


def _set_password(request: HttpRequest, kind: str, token: str) -> HttpResponse:
    """Shared by the invitation's "Activate" and the password-reset link."""
    link, expired = links.find(kind, token)
    person = WebexPerson.objects.filter(person_id=link.target).first() if link else None
    if link is None or expired or person is None:
        return _expired(request)
    if request.method != "POST":
        return _password_page(request, person)
    password, confirm = request.POST.get("password", ""), request.POST.get("confirm", "")
    problem = password_problem(password, confirm)
    if problem:
        return _password_page(request, person, problem)
    with writelock.held(), transaction.atomic():
        person.password_hash = make_password(password)
        person.invite_pending = False
        person.last_modified = clock.now()
        person.save(update_fields=["password_hash", "invite_pending", "last_modified"])
        link.used_at = clock.now()
        link.save(update_fields=["used_at"])
    _sign_in(request, person)
    return redirect("/webex/home")


@csrf_protect
def activate(request: HttpRequest, token: str) -> HttpResponse:
    return _set_password(request, "webex_activate", token)


@csrf_protect
def reset(request: HttpRequest, token: str) -> HttpResponse:
    return _set_password(request, "webex_reset", token)


@csrf_protect
def convert(request: HttpRequest, token: str) -> HttpResponse:
    link, expired = links.find("webex_convert", token)
    person = WebexPerson.objects.filter(person_id=link.target).first() if link else None
    if link is None or expired or person is None:
        return _expired(request)
    if request.method != "POST":
        return show(
            request,
            Page(
                "webex",
                "Join the enterprise account",
                lead=f"Convert to {person.org.name}’s enterprise account.",
                paragraphs=[
                    f"Your Webex account {person.email} will be managed by {person.org.name}. "
                    "Your meetings and messages stay with you.",
                ],
                buttons=[Button("Convert account")],
            ),
        )
    with writelock.held(), transaction.atomic():
        PersonalAccount.objects.filter(vendor="webex", email=person.email).delete()
        person.invite_pending = False
        person.last_modified = clock.now()
        # The personal password does not carry over: the seed page has the member set one
        # through "Forgot password" right after converting.
        person.password_hash = ""
        person.save(update_fields=["invite_pending", "last_modified", "password_hash"])
        link.used_at = clock.now()
        link.save(update_fields=["used_at"])
    return show(
        request,
        Page(
            "webex",
            "Your account was successfully converted",
            lead=f"{person.email} is now part of {person.org.name}.",
            links=[("Sign in", f"/webex/signin?email={person.email}")],
        ),
    )


@csrf_protect
def signin(request: HttpRequest) -> HttpResponse:
    email = (request.POST.get("email") or request.GET.get("email") or "").strip().lower()
    password = request.POST.get("password")
    if request.method != "POST" or not email or "@" not in email:
        return show(
            request,
            Page(
                "webex",
                "Sign in",
                lead="Enter your email address.",
                error="Enter a valid email address." if request.method == "POST" else "",
                notice="You are signed out." if request.GET.get("out") else "",
                fields=[Field("email", "Email address", "email", email, "username")],
                buttons=[Button("Next")],
            ),
        )
    person = WebexPerson.objects.filter(email=email).first()
    error = ""
    if password is not None:
        if person is None or not person.password_hash:
            error = "No password is set for this account. Use “Forgot password” to set one."
        elif not check_password(password, person.password_hash):
            error = "Incorrect password. Try again or use “Forgot password”."
        else:
            _sign_in(request, person)
            return redirect("/webex/home")
    return show(
        request,
        Page(
            "webex",
            "Enter your password",
            lead=email,
            error=error,
            fields=[
                Field("email", "", "hidden", email),
                Field("password", "Password", "password", autocomplete="current-password"),
            ],
            buttons=[Button("Sign In")],
            links=[("Forgot password", f"/webex/forgot?email={email}")],
            status=400 if error else 200,
        ),
    )


@csrf_protect
def forgot(request: HttpRequest) -> HttpResponse:
    email = (request.POST.get("email") or request.GET.get("email") or "").strip().lower()
    if request.method == "POST" and "@" in email:
        person = WebexPerson.objects.filter(email=email).first()
        if person is not None:
            with writelock.held(), transaction.atomic():
                service.send_reset(person, clock.now())
        return show(
            request,
            Page(
                "webex",
                "Check your email",
                lead=f"If {email} has a Webex account, we sent it a link to reset the password.",
                links=[("Back to sign in", "/webex/signin")],
            ),
        )
    return show(
        request,
        Page(
            "webex",
            "Forgot password",
            lead="We will send a link to reset your password to your email address.",
            fields=[Field("email", "Email address", "email", email)],
            buttons=[Button("Send")],
        ),
    )


def home(request: HttpRequest) -> HttpResponse:
    person = _me(request)
    if person is None:
        return redirect("/webex/signin")
    return show(
        request,
        Page(
            "webex",
            f"Welcome, {person.display_name or person.email}",
            lead="You are signed in to Cisco Webex.",
            signed_in_as=person.display_name or "undefined",
            extra={
                "facts": [
                    ("Email", person.email),
                    ("Organization", person.org.name),
                    ("Licenses", _licence_names(person)),
                ]
            },
            links=[("Edit profile", "/webex/profile"), ("Sign out", "/webex/signout")],
        ),
    )


def _licence_names(person: WebexPerson) -> str:
    """The licences by name, as the vendor's page lists them (a bare count says little)."""
    names = WebexLicense.objects.filter(license_id__in=person.licenses).values_list(
        "name", flat=True
    )
    return ", ".join(sorted(names)) or "None"


@csrf_protect
def profile(request: HttpRequest) -> HttpResponse:
    person = _me(request)
    if person is None:
        return redirect("/webex/signin")
    error = notice = ""
    if request.method == "POST":
        display = request.POST.get("display_name", "").strip()
        email = request.POST.get("email", "").strip().lower()
        if not display or "@" not in email or len(display) > 300:
            error = "Display name and a valid email address are required."
        elif email != person.email and WebexPerson.objects.filter(email=email).exists():
            error = "That email address is already in use."
        else:
            with writelock.held(), transaction.atomic():
                if email != person.email:
                    # S9: a changed address is no longer the university's, so the
                    # organisation's licences go with it.
                    person.email, person.licenses = email, []
                    notice = (
                        "Your email address was changed. Your organization's license was removed. "
                    )
                person.display_name = display
                person.first_name = request.POST.get("first_name", "").strip()[:300]
                person.last_name = request.POST.get("last_name", "").strip()[:300]
                person.last_modified = clock.now()
                person.save()
            notice += "Your profile was saved."
    return show(
        request,
        Page(
            "webex",
            "Edit profile",
            lead="Your display name is shown in meetings; first and last name are used by "
            "your administrator.",
            error=error,
            notice=notice,
            signed_in_as=person.display_name or "undefined",
            fields=[
                Field("display_name", "Display name", value=person.display_name),
                Field("first_name", "First name", value=person.first_name),
                Field("last_name", "Last name", value=person.last_name),
                Field("email", "Email address", "email", person.email),
            ],
            paragraphs=["Note: changing your email address removes your organization's license."],
            buttons=[Button("Save")],
            links=[("Home", "/webex/home"), ("Sign out", "/webex/signout")],
            status=400 if error else 200,
        ),
    )


def signout(request: HttpRequest) -> HttpResponse:
    request.session.flush()
    return redirect("/webex/signin?out=1")
