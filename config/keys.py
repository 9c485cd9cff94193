"""Secrets generated once per installation and kept in the var directory.

The phone simulator signs its webhooks as Twilio would; with no TWILIO_AUTH_TOKEN
set, it uses a random key made on first start and stored (owner-readable only)
in VAR_DIR, so every process of one installation shares it and no two
installations (nor anyone reading the source) know each other's.
"""

import os
import secrets
import time
from pathlib import Path


def installation_key(var_dir: Path, name: str) -> str:
    """The key stored as `var_dir/name`, created (atomically, mode 0600) when missing."""
    path = Path(var_dir) / name
    for _ in range(50):
        try:
            key = path.read_text().strip()
        except FileNotFoundError:
            key = ""
        if key:
            return key
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as f:
            f.write(secrets.token_urlsafe(32) + "\n")
        try:
            os.link(temporary, path)  # fails if another process got there first
        except FileExistsError:
            time.sleep(0.01)
        finally:
            temporary.unlink()
    raise RuntimeError(f"Could not read or create {path}")
