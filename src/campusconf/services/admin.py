from django.contrib import admin

from campusconf.services.models import Service


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin[Service]):
    list_display = ["slug", "vendor", "plan_name", "seats", "valid_until", "enabled"]
