from django.apps import AppConfig


class VideosConfig(AppConfig):
    name = "videos"

    def ready(self) -> None:
        # The address guard lets the gateways' documented hosts through; it is told them
        # here, once, so the HTTP helper never imports the gateway registry.
        from videos.gateways import REGISTRY
        from videos.lib import http

        http.allow_gateway_hosts(cls.default_base_url for cls in REGISTRY.values())
