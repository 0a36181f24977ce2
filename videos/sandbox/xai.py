"""STUB: the sandbox's xai dialect (being written)."""

urlpatterns = []
