"""STUB: the jimmyai dialect (being written). See shared/GATEWAYS.md."""

from __future__ import annotations

from videos.gateways.base import Gateway, OptionSpec


class JimmyaiGateway(Gateway):
    dialect = "jimmyai"
    label = "jimmyai"
    default_base_url = "https://example.invalid"
    sandbox_path = "/jimmyai"
    source = "GATEWAYS.md"
    models = (OptionSpec(model="grok-imagine-video-1.5", durations=(10,), default_duration=10),)
