from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from campusconf.accounts.models import Account, AccountEvent, Application


class EventInline(admin.TabularInline[AccountEvent, Account]):
    model = AccountEvent
    extra = 0
    can_delete = False
    # ``reason`` renders the stored code in the admin's language; nothing is editable.
    fields = ("from_state", "to_state", "cause", "actor", "reason", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin[Account]):
    list_display = ["member", "service", "state", "desired_state", "observed_state"]
    list_filter = ["service", "state"]
    search_fields = ["member__common_id", "vendor_user_id"]
    # State changes go through the lifecycle, never through a form.
    readonly_fields = [f.name for f in Account._meta.fields] + ["last_error_message"]
    inlines = [EventInline]


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin[Application]):
    list_display = ["member", "service", "outcome", "created_at"]
    list_filter = ["service", "outcome"]
