"""A key's last check on the key itself: its verdict and when it ran (the keys page
reads these instead of searching the audit trail)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("videos", "0015_webhooks"),
    ]

    operations = [
        migrations.AddField(
            model_name="gatewaykey",
            name="last_verdict",
            field=models.CharField(blank=True, default="", editable=False, max_length=20),
        ),
        migrations.AddField(
            model_name="gatewaykey",
            name="last_checked_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
    ]
