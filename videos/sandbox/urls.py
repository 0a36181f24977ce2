"""The sandbox gateway's URLs, one prefix per dialect (mounted under ``/sandbox/``)."""

from django.urls import path

from videos.sandbox import openai_preview

app_name = "sandbox"

urlpatterns = [
    path("openai/v1/videos", openai_preview.create, name="openai-create"),
    path("openai/v1/videos/<str:video_id>", openai_preview.retrieve, name="openai-retrieve"),
    path("openai/v1/videos/<str:video_id>/content", openai_preview.content, name="openai-content"),
]
