from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("vendor_sandbox", "0003_sandboxstate_variants")]

    operations = [
        migrations.CreateModel(
            name="WebhookDelivery",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("url", models.CharField(max_length=500)),
                ("secret", models.CharField(max_length=100)),
                ("event", models.CharField(max_length=100)),
                ("body", models.TextField()),
                ("attempts", models.IntegerField(default=0)),
                ("next_attempt_at", models.DateTimeField(db_index=True)),
                ("status", models.CharField(default="queued", max_length=20)),
                ("last_error", models.TextField(blank=True, default="")),
                ("created_at", models.DateTimeField()),
            ],
        ),
    ]
