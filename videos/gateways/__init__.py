"""The gateway registry: dialect id → adapter class.

Adding a dialect is a new module beside ``openai_preview`` and one line here.
"""

from __future__ import annotations

from videos.gateways.aijisu import AijisuGateway
from videos.gateways.base import Gateway, GatewayError
from videos.gateways.jimmyai import JimmyaiGateway
from videos.gateways.multipart import MultipartGateway
from videos.gateways.openai_preview import OpenAIPreviewGateway
from videos.gateways.reapi import ReapiGateway
from videos.gateways.xai import XaiGateway

# One line per dialect, in the order the compose form lists them.
REGISTRY: dict[str, type[Gateway]] = {
    cls.dialect: cls
    for cls in (
        OpenAIPreviewGateway,
        MultipartGateway,
        AijisuGateway,
        JimmyaiGateway,
        ReapiGateway,
        XaiGateway,
    )
}

__all__ = ["REGISTRY", "Gateway", "GatewayError", "dialect_choices", "get_gateway_class"]


def get_gateway_class(dialect: str) -> type[Gateway]:
    """The adapter class for ``dialect``. Raises KeyError for an unknown dialect."""
    return REGISTRY[dialect]


def dialect_choices() -> list[tuple[str, str]]:
    """(dialect, label) pairs for form choices, in registry order."""
    return [(dialect, cls.label) for dialect, cls in REGISTRY.items()]
