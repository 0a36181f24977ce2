from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "videos.sandbox"
    label = "sandbox"
    verbose_name = "Sandbox gateway"
