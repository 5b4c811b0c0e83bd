"""SeatWait moves from the back office to the engine's app, whose seat rules own it.

State only: the table keeps its name (``backoffice_seatwait``), its rows, index and
constraint, so nothing is copied. The content type follows the model, so permissions
given on seat waits stay attached to it.
"""

import django.db.models.deletion
from django.db import migrations, models


def content_type_follows(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    if not content_type.objects.filter(app_label="provisioning", model="seatwait").exists():
        content_type.objects.filter(app_label="backoffice", model="seatwait").update(
            app_label="provisioning"
        )


def content_type_goes_back(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    if not content_type.objects.filter(app_label="backoffice", model="seatwait").exists():
        content_type.objects.filter(app_label="provisioning", model="seatwait").update(
            app_label="backoffice"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("backoffice", "0004_seatwait_campaign"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("members", "0001_initial"),
        ("provisioning", "0007_account_watch"),
        ("services", "0002_licence_end_policy"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="SeatWait",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "outcome",
                            models.CharField(
                                choices=[
                                    ("waiting", "waiting"),
                                    ("admitted", "admitted"),
                                    ("dropped", "dropped"),
                                ],
                                default="waiting",
                                max_length=8,
                                verbose_name="outcome",
                            ),
                        ),
                        ("note", models.CharField(blank=True, max_length=200, verbose_name="note")),
                        (
                            "created_at",
                            models.DateTimeField(auto_now_add=True, verbose_name="waiting since"),
                        ),
                        (
                            "decided_at",
                            models.DateTimeField(blank=True, null=True, verbose_name="decided at"),
                        ),
                        (
                            "campaign",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="seat_waits",
                                to="provisioning.campaign",
                            ),
                        ),
                        (
                            "member",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="seat_waits",
                                to="members.member",
                            ),
                        ),
                        (
                            "service",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="seat_waits",
                                to="services.service",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "seat wait",
                        "verbose_name_plural": "seat waits",
                        "db_table": "backoffice_seatwait",
                        "ordering": ["created_at", "id"],
                        "indexes": [
                            models.Index(
                                fields=["service", "outcome", "created_at"],
                                name="backoffice__service_d97918_idx",
                            )
                        ],
                        "constraints": [
                            models.UniqueConstraint(
                                condition=models.Q(("outcome", "waiting")),
                                fields=("member", "service"),
                                name="seatwait_one_waiting_per_service",
                            )
                        ],
                    },
                ),
            ],
        ),
        migrations.RunPython(content_type_follows, content_type_goes_back),
    ]
