"""``check --deploy`` warns when the sandbox is served in production.

The sandbox is a development tool: it renders videos for nothing, for anyone holding a key
the studio issued for it (``videos/sandbox/keys.py``). With ``DEBUG`` off it should be off
(``STUDIO_SANDBOX_ENABLED`` defaults to ``DEBUG``; docs/operations.md, "Production").
"""

from __future__ import annotations

from django.conf import settings
from django.core import checks

W001 = "studio.W001"


@checks.register(checks.Tags.security, deploy=True)
def sandbox_off_in_production(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    if settings.STUDIO_SANDBOX_ENABLED and not settings.DEBUG:
        return [
            checks.Warning(
                "The sandbox gateway is enabled (STUDIO_SANDBOX_ENABLED) while DEBUG is off: "
                "it serves fake gateways under /sandbox/ to anyone holding one of its keys.",
                hint="Unset STUDIO_SANDBOX_ENABLED (it follows DEBUG) or set it to false in production.",
                id=W001,
            )
        ]
    return []
