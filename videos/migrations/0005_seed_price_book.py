"""Fills the price book with the public prices of docs/gateways.md §5.7 (reAPI) and §6.7
(xAI), each with its source and the date it was read. Site admins edit them in the Django
admin."""

from datetime import date
from decimal import Decimal

from django.db import migrations

PRICES = [
    # (dialect, model, resolution, usd/s, usd/image, rounding, source, read on)
    ("reapi", "grok-imagine-video-1.5-official", "480p", "0.02", "0", "credits",
     "docs/gateways.md §5.7: reAPI public price snapshot; credits formula (https://reapi.ai/docs/grok-imagine-video-1-5-official)", date(2026, 7, 1)),
    ("reapi", "grok-imagine-video-1.5-official", "720p", "0.04", "0", "credits",
     "docs/gateways.md §5.7: reAPI public price snapshot, 720p = 2× 480p (https://reapi.ai/docs/grok-imagine-video-1-5-official)", date(2026, 7, 1)),
    ("reapi", "grok-imagine-video-1.5-beta", "480p", "0.083375", "0", "credits",
     "docs/gateways.md §5.7: reAPI beta channel price (https://reapi.ai/docs/grok-imagine-video-1-5)", date(2026, 7, 1)),
    ("reapi", "grok-imagine-video-1.5-beta", "720p", "0.14375", "0", "credits",
     "docs/gateways.md §5.7: reAPI beta channel price (https://reapi.ai/docs/grok-imagine-video-1-5)", date(2026, 7, 1)),
    ("xai", "grok-imagine-video-1.5-preview", "480p", "0.08", "0.01", "exact",
     "docs/gateways.md §6.7: xAI price list, +$0.01 per input image (https://docs.x.ai/docs/models)", date(2026, 6, 1)),
    ("xai", "grok-imagine-video-1.5-preview", "720p", "0.14", "0.01", "exact",
     "docs/gateways.md §6.7: xAI price list, +$0.01 per input image (https://docs.x.ai/docs/models)", date(2026, 6, 1)),
]  # fmt: skip


def seed(apps, schema_editor):
    Price = apps.get_model("videos", "Price")
    for dialect, model, resolution, per_second, per_image, rounding, source, read_on in PRICES:
        Price.objects.update_or_create(
            dialect=dialect,
            model=model,
            resolution=resolution,
            defaults={
                "usd_per_second": Decimal(per_second),
                "usd_per_image": Decimal(per_image),
                "rounding": rounding,
                "source": source,
                "read_on": read_on,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("videos", "0004_billing")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
