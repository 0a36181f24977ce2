from django.apps import AppConfig


class VideosConfig(AppConfig):
    name = "videos"

    def ready(self) -> None:
        # The address guard lets the gateways' documented hosts through; it is told them
        # here, once, so the HTTP helper never imports the gateway registry.
        from videos.gateways import REGISTRY
        from videos.lib import http

        http.allow_gateway_hosts(cls.default_base_url for cls in REGISTRY.values())

        # A worker process that starts (a new cluster, after a crash perhaps) queues a sweep
        # loop that takes over a dead loop's slot at once rather than after its lease.
        from django_q.signals import post_spawn

        from videos.worker.tasks import on_worker_start

        post_spawn.connect(on_worker_start, dispatch_uid="studio-take-over-sweep")

        # SQLite drops a table's triggers when a migration rebuilds it: put the prompt
        # index's triggers back (and rebuild the index) after every migrate.
        from django.db.models.signals import post_migrate

        post_migrate.connect(_ensure_search_index, sender=self, dispatch_uid="studio-search-index")


def _ensure_search_index(using, **kwargs) -> None:
    from django.db import connections

    from videos.search import ensure_index

    ensure_index(connections[using])
