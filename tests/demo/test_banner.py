"""The demo's start-up banner points a newcomer at the right pages and sign-ins."""

from campusconf.demo.management.commands.demo import ADMIN_PASSWORD, Command


def test_the_banner_sends_staff_to_the_back_office_and_admin_to_django_admin():
    banner = Command().banner({})
    staff_line = next(line for line in banner.splitlines() if "Back office" in line)
    admin_line = next(line for line in banner.splitlines() if "admin /" in line)
    # Staff sign in like members (the development sign-in, with staff rights); only the
    # superuser has a password, and Django admin asks for its one-time code too.
    assert "/staff/" in staff_line and "Development sign-in as IT staff" in staff_line
    assert ADMIN_PASSWORD not in staff_line
    assert "/admin/" in admin_line and ADMIN_PASSWORD in admin_line
    assert "demo-totp" in banner and "/dev-login/" in banner
