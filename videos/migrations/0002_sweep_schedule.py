"""Creates the django-q2 schedule that restarts the poller's sweep loop every minute.

The loop re-queues itself while tasks are in flight; this schedule is the safety
net that brings it back if its message is ever lost. Schedules are created
idempotently in a migration, not in AppConfig.ready(), which runs in every process.
"""

from django.db import migrations


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name="studio-sweep",
        defaults={
            "func": "videos.tasks.sweep_loop",
            "schedule_type": "I",
            "minutes": 1,
            "repeats": -1,
        },
    )


def delete_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name="studio-sweep").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("videos", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
