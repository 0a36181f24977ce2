"""STUB (being written): the team's gallery and its bulk actions."""

from django.http import HttpResponse


def gallery(request):
    return HttpResponse("gallery")


def bulk(request):
    return HttpResponse("bulk")
