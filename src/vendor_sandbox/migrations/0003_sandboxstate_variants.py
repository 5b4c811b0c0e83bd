from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("vendor_sandbox", "0002_zoom_user_list")]

    operations = [
        migrations.AddField(
            model_name="sandboxstate",
            name="variants",
            field=models.JSONField(default=dict),
        ),
    ]
