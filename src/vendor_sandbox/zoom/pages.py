"""Zoom's activation, join, sign-in, password and account pages (S12, S14, S15)."""

from __future__ import annotations

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.csrf import csrf_protect

from vendor_sandbox import clock, faults, links, writelock
from vendor_sandbox.conf import CONFIG
from vendor_sandbox.models import Link, PersonalAccount, ZoomUser
from vendor_sandbox.pages import Button, Field, Page, password_problem, show
from vendor_sandbox.zoom import service

SESSION_KEY = "zoom_principal"  # "org:<user_id>" or "personal:<email>"
TYPE_NAMES = {1: "Basic", 2: "Licensed", 4: "Unassigned", 99: "None"}
SIGN_IN_NAMES = {
    service.LOGIN_EMAIL: "Email and password",
    service.LOGIN_GOOGLE: "Google",
    24: "Apple",
    27: "Microsoft",
    101: "SSO",
}


def _who(request: HttpRequest) -> tuple[ZoomUser | None, PersonalAccount | None]:
    kind, _, key = request.session.get(SESSION_KEY, "").partition(":")
    if kind == "org":
        return ZoomUser.objects.filter(user_id=key).first(), None
    if kind == "personal":
        return None, PersonalAccount.objects.filter(vendor="zoom", email=key).first()
    return None, None


def _name(request: HttpRequest) -> str:
    user, personal = _who(request)
    if user:
        return user.display_name or user.email
    return (personal.display_name or personal.email) if personal else ""


def _page(request: HttpRequest, title: str, **kw: object) -> HttpResponse:
    return show(request, Page("zoom", title, signed_in_as=_name(request), **kw))  # type: ignore[arg-type]


def _expired(request: HttpRequest) -> HttpResponse:
    return _page(
        request,
        "This invitation has expired",
        lead="The activation link is no longer valid.",
        paragraphs=[
            f"Invitations expire after {CONFIG.zoom_invite_days:g} days, or when a newer one "
            "is sent. Ask your account administrator to invite you again."
        ],
        status=410,
    )


def _link_user(
    request: HttpRequest, kind: str, token: str
) -> tuple[Link | None, ZoomUser | None, HttpResponse | None]:
    link, expired = links.find(kind, token)
    if link is None or expired:
        return None, None, _expired(request)
    now = clock.now()
    user = ZoomUser.objects.filter(user_id=link.target).first()
    if user is None or user.visible_at > now or service.is_expired_pending(user, now):
        # S15: right after creation the user is not yet visible to the activation page.
        page = _page(
            request,
            "User does not exist",
            error=f"User does not exist: {link.email}.",
            paragraphs=["Please try again later, or contact your account administrator."],
            status=404,
        )
        return link, None, page
    if user.status != "pending":
        page = _page(
            request,
            "Your account is already active",
            lead=user.email,
            links=[("Sign in", "/zoom/signin"), ("My Account", "/zoom/account")],
        )
        return link, None, page
    return link, user, None


def _accept(request: HttpRequest, link: Link, user: ZoomUser, login_type: int) -> None:
    now = clock.now()
    user.status, user.verified, user.login_types = "active", 1, [login_type]
    user.last_login_time = now
    user.save()
    Link.objects.filter(target=user.user_id).update(used_at=now)
    service.emit("user.invitation_accepted", user, user.account)
    request.session[SESSION_KEY] = f"org:{user.user_id}"


def _signup_form(request: HttpRequest, user: ZoomUser, error: str = "") -> HttpResponse:
    post = request.POST
    return _page(
        request,
        "Sign up with password",
        lead=f"Activate {user.email}",
        error=error,
        fields=[
            Field("first_name", "First Name", value=post.get("first_name", user.first_name)),
            Field("last_name", "Last Name", value=post.get("last_name", user.last_name)),
            Field("password", "Password", "password", autocomplete="new-password"),
            Field("confirm", "Confirm Password", "password", autocomplete="new-password"),
            Field("method", "", "hidden", "password"),
        ],
        policy=True,
        buttons=[Button("Continue", value="signup")],
        status=400 if error else 200,
    )


def _google(request: HttpRequest, link: Link, user: ZoomUser) -> HttpResponse:
    """ "Sign in with Google" on the activation page (S12), as the variant in force says.

    By default (the university's report) Google makes a personal Basic account outside
    the organisation and the organisation's user stays pending: Zoom's API shows nothing
    of it. The other choices accept the invitation with a Google login, as a Basic user
    (no licence) or keeping the licence the invitation carried.
    """
    chosen = faults.load().variants["zoom_google_activation"]
    if chosen == "personal_outside":
        with writelock.held(), transaction.atomic():
            PersonalAccount.objects.get_or_create(
                vendor="zoom",
                email=user.email,
                defaults={
                    "display_name": user.email.split("@")[0],
                    "login_type": service.LOGIN_GOOGLE,
                    "created_at": clock.now(),
                },
            )
        request.session[SESSION_KEY] = f"personal:{user.email}"
        return redirect("/zoom/account")
    with writelock.held(), transaction.atomic():
        if chosen == "joined_basic":
            user.type = 1
        _accept(request, link, user, service.LOGIN_GOOGLE)
    return redirect("/zoom/account")


@csrf_protect
def activate(request: HttpRequest, token: str) -> HttpResponse:
    link, user, early = _link_user(request, "zoom_activate", token)
    if early is not None or user is None or link is None:
        return early or _expired(request)
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "google":
        return _google(request, link, user)
    if action == "signup" or request.GET.get("method") == "password":
        if request.method != "POST":
            return _signup_form(request, user)
        first = request.POST.get("first_name", "").strip()
        last = request.POST.get("last_name", "").strip()
        password, confirm = request.POST.get("password", ""), request.POST.get("confirm", "")
        problem = password_problem(password, confirm)
        if not first or not last or len(first) > 64 or len(last) > 64:
            problem = "Enter your first and last name (up to 64 characters each)."
        if problem:
            return _signup_form(request, user, problem)
        with writelock.held(), transaction.atomic():
            user.first_name, user.last_name = first, last
            user.display_name = f"{first} {last}"
            user.password_hash = make_password(password)
            # A personal account made by mistake (S12) gives way to the organisation's.
            PersonalAccount.objects.filter(vendor="zoom", email=user.email).delete()
            _accept(request, link, user, service.LOGIN_EMAIL)
        return _page(
            request,
            "Your account has been activated",
            lead=f"Welcome, {user.display_name}. Your {TYPE_NAMES.get(user.type)} account "
            f"of {CONFIG.org_name} is ready.",
            links=[("Start Zoom Meeting Now", "/zoom/account"), ("My Account", "/zoom/account")],
        )
    return _page(
        request,
        "Activate your account",
        lead=f"{CONFIG.org_name} invited {user.email} to Zoom. Choose how to sign in.",
        buttons=[
            Button("Sign in with Google", value="google", style="google"),
        ],
        links=[("Sign up with password", f"/zoom/activate/{token}?method=password")],
    )


@csrf_protect
def join(request: HttpRequest, token: str) -> HttpResponse:
    link, user, early = _link_user(request, "zoom_join", token)
    if early is not None or user is None or link is None:
        return early or _expired(request)
    personal = PersonalAccount.objects.filter(vendor="zoom", email=user.email).first()
    step = request.POST.get("action") if request.method == "POST" else None
    if step == "switch":
        with writelock.held(), transaction.atomic():
            login_type = personal.login_type if personal else service.LOGIN_EMAIL
            if personal:
                user.password_hash = personal.password_hash
                personal.delete()
            _accept(request, link, user, login_type)
        return _page(
            request,
            "Account switched successfully",
            lead=f"{user.email} is now part of {CONFIG.org_name}'s Zoom account.",
            links=[("My Account", "/zoom/account")],
        )
    if step == "approve":
        return _page(
            request,
            "Switch to the new account",
            lead=f"Your account {user.email} will move into {CONFIG.org_name}'s account.",
            paragraphs=[
                "The account owner and admins will be able to manage your account. "
                "Your meetings, webinars and recordings move with you."
            ],
            buttons=[Button("Confirm and Switch", value="switch")],
        )
    return _page(
        request,
        f"Join {CONFIG.org_name}'s Zoom account",
        lead=f"{CONFIG.org_name} invited {user.email} to join their account.",
        buttons=[Button("Approve Request", value="approve")],
    )


@csrf_protect
def signin(request: HttpRequest) -> HttpResponse:
    email = request.POST.get("email", "").strip().lower()
    error = ""
    if request.method == "POST":
        password = request.POST.get("password", "")
        user = ZoomUser.objects.filter(email=email).exclude(status="pending").first()
        personal = PersonalAccount.objects.filter(vendor="zoom", email=email).first()
        if user and user.password_hash and check_password(password, user.password_hash):
            request.session[SESSION_KEY] = f"org:{user.user_id}"
            return redirect("/zoom/account")
        if personal and personal.password_hash and check_password(password, personal.password_hash):
            request.session[SESSION_KEY] = f"personal:{email}"
            return redirect("/zoom/account")
        error = "Incorrect email or password."
    return _page(
        request,
        "Sign In",
        error=error,
        fields=[
            Field("email", "Email Address", "email", email, "username"),
            Field("password", "Password", "password", autocomplete="current-password"),
        ],
        buttons=[Button("Sign In")],
        links=[("Forgot password?", "/zoom/forgot")],
        status=400 if error else 200,
    )


@csrf_protect
def forgot(request: HttpRequest) -> HttpResponse:
    email = request.POST.get("email", "").strip().lower()
    if request.method == "POST" and "@" in email:
        now = clock.now()
        with writelock.held(), transaction.atomic():
            user = ZoomUser.objects.filter(email=email).first()
            if user and user.status == "pending" and not service.is_expired_pending(user, now):
                # S14: a pending member gets a fresh activation link, which also recovers
                # from the "Sign in with Google" mistake.
                service.invite(user, user.account, now, activation_only=True)
            elif user and user.status != "pending":
                service.send_reset(email, f"org:{user.user_id}", now)
            elif PersonalAccount.objects.filter(vendor="zoom", email=email).exists():
                service.send_reset(email, f"personal:{email}", now)
        return _page(
            request,
            "Check your email",
            lead=f"If {email} belongs to a Zoom account, we sent it an email with a link.",
            links=[("Back to Sign In", "/zoom/signin")],
        )
    return _page(
        request,
        "Did you forget your password?",
        lead="Enter the email address you used to sign up, and we will email you a link.",
        error="Enter a valid email address." if request.method == "POST" else "",
        fields=[Field("email", "Email Address", "email", email)],
        buttons=[Button("Send")],
    )


@csrf_protect
def reset(request: HttpRequest, token: str) -> HttpResponse:
    link, expired = links.find("zoom_reset", token)
    if link is None or expired:
        return _expired(request)
    error = ""
    if request.method == "POST":
        password, confirm = request.POST.get("password", ""), request.POST.get("confirm", "")
        error = password_problem(password, confirm) or ""
        if not error:
            kind, _, key = link.target.partition(":")
            with writelock.held(), transaction.atomic():
                if kind == "org":
                    ZoomUser.objects.filter(user_id=key).update(
                        password_hash=make_password(password)
                    )
                else:
                    PersonalAccount.objects.filter(vendor="zoom", email=key).update(
                        password_hash=make_password(password)
                    )
                Link.objects.filter(pk=link.pk).update(used_at=clock.now())
            request.session[SESSION_KEY] = link.target
            return redirect("/zoom/account")
    return _page(
        request,
        "Reset your password",
        lead=link.email,
        error=error,
        fields=[
            Field("password", "New Password", "password", autocomplete="new-password"),
            Field("confirm", "Confirm New Password", "password", autocomplete="new-password"),
        ],
        policy=True,
        buttons=[Button("Save")],
        status=400 if error else 200,
    )


def home(request: HttpRequest) -> HttpResponse:
    signed_in = bool(_name(request))
    return _page(
        request,
        "Zoom",
        lead="One platform to connect.",
        links=[("My Account", "/zoom/account")] if signed_in else [("Sign in", "/zoom/signin")],
    )


def account(request: HttpRequest) -> HttpResponse:
    user, personal = _who(request)
    if user is None and personal is None:
        return redirect("/zoom/signin")
    if user is not None:
        facts = [
            ("Name", user.display_name),
            ("Email", user.email),
            ("User type", TYPE_NAMES.get(user.type, str(user.type))),
            ("Account", CONFIG.org_name),
            ("Sign-in method", SIGN_IN_NAMES.get(next(iter(user.login_types), -1), "Other")),
        ]
    else:
        assert personal is not None
        facts = [
            ("Name", personal.display_name),
            ("Email", personal.email),
            ("User type", "Basic"),
            ("Account", "Personal account (not part of any organization)"),
            ("Sign-in method", "Google" if personal.login_type == 1 else "Email and password"),
        ]
    return _page(
        request,
        "My Account",
        lead="Profile",
        extra={"facts": facts},
        links=[("Sign out", "/zoom/signout")],
    )


def signout(request: HttpRequest) -> HttpResponse:
    request.session.flush()
    return redirect("/zoom/")
