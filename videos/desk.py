"""STUB (being written): the review desk, the audit trail page and notifications."""

from django.http import HttpResponse


def review_queue(request):
    return HttpResponse("review")


def review_decide(request, uuid):
    return HttpResponse("decide")


def audit_log(request):
    return HttpResponse("audit")


def notifications(request):
    return HttpResponse("notifications")
