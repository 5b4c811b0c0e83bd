from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("vendor_sandbox", "0004_webhook_deliveries_on_the_sandbox_clock")]

    operations = [
        migrations.AddField(
            model_name="sandboxstate",
            name="webex_verified_domains",
            field=models.JSONField(default=None, null=True),
        ),
        migrations.AddField(
            model_name="personalaccount",
            name="paid",
            field=models.BooleanField(default=False),
        ),
    ]
