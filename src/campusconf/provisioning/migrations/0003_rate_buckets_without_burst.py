"""Buckets made before ratelimit.BURST kept 3 % of their rate as a burst; drop it."""

from django.db import migrations


def drop_burst(apps, schema_editor):
    apps.get_model("provisioning", "RateBucket").objects.update(burst=1.0)


class Migration(migrations.Migration):
    dependencies = [("provisioning", "0002_campaign_schedule_and_skips")]

    operations = [migrations.RunPython(drop_burst, migrations.RunPython.noop)]
