def dashboard_context(request) -> dict:
    """What the dashboard shows about incidents (templates/callouts/_dashboard.html)."""
    return {}
