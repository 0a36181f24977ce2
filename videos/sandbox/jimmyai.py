"""STUB: the sandbox's jimmyai dialect (being written)."""

urlpatterns = []
