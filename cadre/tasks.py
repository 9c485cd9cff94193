"""The cadre's background work, named here and nowhere else (config/jobs.py says when)."""

from cadre import services


def forget_stale_uploads_now() -> None:
    """Delete CSV uploads never confirmed (the escalator clock calls this hourly); the system
    acts, so `by=None`."""
    services.forget_stale_uploads(by=None)
