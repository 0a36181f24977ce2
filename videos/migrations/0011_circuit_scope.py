"""A circuit now guards a *scope*: a gateway host, or one key (401/403/429 count against
the key alone, so one team's bad luck never pauses another's tasks on the same host)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("videos", "0010_submission_token")]

    operations = [
        migrations.RenameField(model_name="gatewaycircuit", old_name="host", new_name="scope"),
        migrations.AlterField(
            model_name="gatewaycircuit",
            name="scope",
            field=models.CharField(help_text="scheme://host:port, or key:<uuid>", max_length=300, unique=True),
        ),
    ]
