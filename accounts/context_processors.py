def team(request):
    """Expose the current team and membership to every template."""
    return {
        "team": getattr(request, "team", None),
        "membership": getattr(request, "membership", None),
    }
