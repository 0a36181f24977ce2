from django.conf import settings
from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path

from videos.api.endpoints import api


def healthz(request) -> HttpResponse:
    """200 ``ok`` for load balancers and probes (no login, no database)."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("", include("videos.urls")),
    path("", include("accounts.urls")),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]

if settings.STUDIO_SANDBOX_ENABLED:
    urlpatterns.append(path("sandbox/", include("videos.sandbox.urls")))
