"""STUB: the multipart dialect (being written). See shared/GATEWAYS.md."""

from __future__ import annotations

from videos.gateways.base import Gateway, OptionSpec


class MultipartGateway(Gateway):
    dialect = "multipart"
    label = "multipart"
    default_base_url = "https://example.invalid"
    sandbox_path = "/multipart"
    source = "GATEWAYS.md"
    models = (OptionSpec(model="grok-video-1.5", durations=(10,), default_duration=10),)
