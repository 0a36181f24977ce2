"""STUB: the sandbox's reapi dialect (being written)."""

urlpatterns = []
