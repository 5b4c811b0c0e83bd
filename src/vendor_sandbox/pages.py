"""What the vendors' web pages share: one page template, the password policy, sessions."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def password_problem(password: str, confirm: str) -> str | None:
    """The message to show for a password that breaks the policy, or None."""
    if not 8 <= len(password) <= 32:
        return "The password must be 8 to 32 characters long."
    if not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
        return "The password must contain at least one letter and one number."
    if password != confirm:
        return "The two passwords do not match."
    return None


@dataclass
class Field:
    name: str
    label: str
    type: str = "text"
    value: str = ""
    autocomplete: str = "off"


@dataclass
class Button:
    label: str
    name: str = "action"
    value: str = ""
    style: str = "primary"  # primary | secondary | google


@dataclass
class Page:
    vendor: str  # webex | zoom
    title: str
    lead: str = ""
    paragraphs: list[str] = field(default_factory=list)
    error: str = ""
    notice: str = ""
    fields: list[Field] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)  # (label, href)
    action: str = ""  # form target; "" = this page
    method: str = "post"
    policy: bool = False
    signed_in_as: str = ""
    status: int = 200
    extra: dict[str, Any] = field(default_factory=dict)


def show(request: HttpRequest, page: Page) -> HttpResponse:
    return render(request, "vendor_sandbox/page.html", {"p": page}, status=page.status)
