from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("vendor_sandbox", "0001_initial")]

    operations = [
        migrations.AddIndex(
            model_name="zoomuser",
            index=models.Index(
                fields=["account", "status", "visible_at", "invited_at"], name="zoom_user_list"
            ),
        ),
    ]
