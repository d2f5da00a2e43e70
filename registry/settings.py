"""Settings: one frozen dataclass, read from the environment when asked (never at import time).

Every field has help text; the README's settings table lists them all (tests/test_docs.py checks).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE = PROJECT_ROOT / "var" / "onetrip.sqlite"
FALLBACK_PUBLIC_URL = "http://localhost:8000"  # only where no server says where it listens


def _setting(default: object, help: str, env: str):
    return field(default=default, metadata={"help": help, "env": env})


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = _setting(
        f"sqlite:///{DEFAULT_SQLITE}",
        "Where the registry is stored: `sqlite:///path/to/file.sqlite` (default, WAL mode) "
        "or `postgresql://user:password@host:5432/dbname`.",
        "ONETRIP_DATABASE_URL",
    )
    public_url: str = _setting(
        "",
        "The public base URL of the site; QR codes and printed addresses use it. Empty: the address "
        "`onetrip serve` listens on (`http://HOST:PORT`), with a warning at start — production must "
        "set it.",
        "ONETRIP_PUBLIC_URL",
    )
    map_url: str = _setting(
        "",
        "Map link for a venue's coordinates, e.g. `https://map.example.cn/?lat={lat}&lng={lng}&name={name}`; "
        "empty = no map links (the halls' networks are closed: use a map the city runs).",
        "ONETRIP_MAP_URL",
    )
    seeds_dir: str = _setting(
        str(PROJECT_ROOT / "seeds"),
        "The folder `onetrip seed` loads.",
        "ONETRIP_SEEDS_DIR",
    )
    state_dir: str = _setting(
        str(PROJECT_ROOT / "var"),
        "Folder for the generated secret key and the search dictionary's trie (sessions and login "
        "throttling live in the database).",
        "ONETRIP_STATE_DIR",
    )
    secret: str = _setting(
        "",
        "Secret for CSRF tokens; empty = generated once and kept in `{state_dir}/secret.key`. "
        "Set the same value on every server of one installation.",
        "ONETRIP_SECRET",
    )
    login_attempts: int = _setting(
        5, "Failed logins allowed per user and address within 15 minutes.", "ONETRIP_LOGIN_ATTEMPTS"
    )
    trusted_proxies: str = _setting(
        "",
        "Addresses of reverse proxies whose X-Forwarded-For is believed (comma-separated, `*` for "
        "any); empty = use the peer address (login throttling counts per real client).",
        "ONETRIP_TRUSTED_PROXIES",
    )
    publish_interval: int = _setting(
        60,
        "Seconds between the server's own publish-due runs (scheduled guides switch on their date "
        "without cron); 0 turns it off.",
        "ONETRIP_PUBLISH_INTERVAL",
    )
    page_size: int = _setting(50, "Items per page on lists and in `/api/items`.", "ONETRIP_PAGE_SIZE")
    debug: bool = _setting(False, "Show tracebacks on errors (never in production).", "ONETRIP_DEBUG")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(f.metadata["env"])
            if raw is None or raw == "":
                continue
            if f.type in ("int", int):
                values[f.name] = int(raw)
            elif f.type in ("bool", bool):
                values[f.name] = raw.strip().lower() in ("1", "true", "yes", "on")
            else:
                values[f.name] = raw
        return cls(**values)

    @property
    def base_url(self) -> str:
        """The public base URL in use: the setting, else the default port on this machine."""
        return self.public_url or FALLBACK_PUBLIC_URL

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://"))


def settings_table() -> list[tuple[str, str, str]]:
    """(environment variable, default, help) for every setting, for docs and `onetrip settings`."""
    return [(f.metadata["env"], str(f.default), f.metadata["help"]) for f in fields(Settings)]
