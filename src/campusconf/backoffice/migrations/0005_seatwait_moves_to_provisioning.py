"""SeatWait now belongs to the engine's app (provisioning 0007): the back office forgets
the model, the table stays where it is."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("backoffice", "0004_seatwait_campaign"),
        ("provisioning", "0008_seatwait_moves_from_backoffice"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel(name="SeatWait")],
        ),
    ]
