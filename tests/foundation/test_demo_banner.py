"""The demo's start-up banner points a newcomer at the right pages and sign-ins."""

from campusconf.demo.management.commands.demo import STAFF_PASSWORD, Command


def test_the_banner_sends_staff_to_the_back_office_and_admin_to_django_admin():
    banner = Command().banner({})
    staff_line = next(line for line in banner.splitlines() if "staff /" in line)
    admin_line = next(line for line in banner.splitlines() if "admin /" in line)
    # The staff user is not a superuser: Django admin would refuse it.
    assert "/staff/" in staff_line and "/admin/" not in staff_line
    assert "/admin/" in admin_line
    assert STAFF_PASSWORD in staff_line and "/dev-login/" in banner
