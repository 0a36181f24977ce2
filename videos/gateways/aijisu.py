"""STUB: the aijisu dialect (being written). See shared/GATEWAYS.md."""

from __future__ import annotations

from videos.gateways.base import Gateway, OptionSpec


class AijisuGateway(Gateway):
    dialect = "aijisu"
    label = "aijisu"
    default_base_url = "https://example.invalid"
    sandbox_path = "/aijisu"
    source = "GATEWAYS.md"
    models = (OptionSpec(model="grok-video-1.5", durations=(10,), default_duration=10),)
