from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "videos.sandbox"
    label = "sandbox"
    verbose_name = "Sandbox gateway"

    def ready(self) -> None:
        from videos.sandbox import checks  # noqa: F401  (registers the deploy check)
