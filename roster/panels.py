def dashboard_context(request) -> dict:
    """What the dashboard shows about the rota (templates/roster/_dashboard.html)."""
    return {}
