"""The sandbox gateway's URLs: one prefix per dialect, mounted under ``/sandbox/``.

Each dialect module lists its own paths exactly as its gateway documents them.
"""

from django.urls import include, path

from videos.sandbox import aijisu, jimmyai, multipart, openai_preview, reapi, xai

app_name = "sandbox"

urlpatterns = [
    path("openai/", include(openai_preview.urlpatterns)),
    path("multipart/", include(multipart.urlpatterns)),
    path("aijisu/", include(aijisu.urlpatterns)),
    path("jimmyai/", include(jimmyai.urlpatterns)),
    path("reapi/", include(reapi.urlpatterns)),
    path("xai/", include(xai.urlpatterns)),
]
