"""STUB: the sandbox's aijisu dialect (being written)."""

urlpatterns = []
