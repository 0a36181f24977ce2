"""STUB: the sandbox's multipart dialect (being written)."""

urlpatterns = []
