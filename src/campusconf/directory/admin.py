from django.contrib import admin

from campusconf.directory.models import LeaverNotice, ScimClient, ScimUser


@admin.register(ScimClient)
class ScimClientAdmin(admin.ModelAdmin[ScimClient]):
    """Rights are chosen when a token is made (audited there), never edited after."""

    list_display = ["name", "can_read", "can_write", "can_deactivate", "created_at", "revoked_at"]
    readonly_fields = [
        "token_hash",
        "can_read",
        "can_write",
        "can_deactivate",
        "created_at",
        "last_used_at",
    ]


@admin.register(ScimUser)
class ScimUserAdmin(admin.ModelAdmin[ScimUser]):
    """Records with no member (``pending_reason`` set) can neither sign in nor apply."""

    list_display = ["user_name", "external_id", "active", "member", "pending_reason", "updated_at"]
    list_filter = ["active", ("member", admin.EmptyFieldListFilter)]
    search_fields = ["user_name", "external_id"]
    readonly_fields = ["resource", "member", "pending_reason", "version"]


@admin.register(LeaverNotice)
class LeaverNoticeAdmin(admin.ModelAdmin[LeaverNotice]):
    list_display = ["member", "left_on", "notified_at", "deprovision_on", "deprovisioned_at"]
