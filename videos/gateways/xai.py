"""STUB: the xai dialect (being written). See shared/GATEWAYS.md."""

from __future__ import annotations

from videos.gateways.base import Gateway, OptionSpec


class XaiGateway(Gateway):
    dialect = "xai"
    label = "xai"
    default_base_url = "https://example.invalid"
    sandbox_path = "/xai"
    source = "GATEWAYS.md"
    models = (OptionSpec(model="grok-imagine-video-1.5-preview", durations=(10,), default_duration=10),)
