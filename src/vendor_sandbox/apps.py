from django.apps import AppConfig


class VendorSandboxConfig(AppConfig):
    name = "vendor_sandbox"
    label = "vendor_sandbox"
    default_auto_field = "django.db.models.BigAutoField"
