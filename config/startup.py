"""What a production process refuses to start without, beyond what settings check.

Settings cannot check for collected static files (collectstatic itself loads them),
so the web process checks when it starts: without the manifest, every page, the login
page included, would be a 500.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def static_manifest_missing() -> bool:
    backend = settings.STORAGES["staticfiles"]["BACKEND"]
    if "Manifest" not in backend:
        return False
    return not (settings.STATIC_ROOT / "staticfiles.json").exists()


def refuse_unsafe_start():
    if static_manifest_missing():
        raise ImproperlyConfigured(
            f"Static files are not collected in {settings.STATIC_ROOT}: run "
            "`manage.py collectstatic --no-input` first (bin/serve does it for you)."
        )
