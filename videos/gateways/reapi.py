"""STUB: the reapi dialect (being written). See shared/GATEWAYS.md."""

from __future__ import annotations

from videos.gateways.base import Gateway, OptionSpec


class ReapiGateway(Gateway):
    dialect = "reapi"
    label = "reapi"
    default_base_url = "https://example.invalid"
    sandbox_path = "/reapi"
    source = "GATEWAYS.md"
    models = (OptionSpec(model="grok-imagine-video-1.5-official", durations=(10,), default_duration=10),)
