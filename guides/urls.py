"""The one URL builder. Templates, QR codes and printed addresses all ask it.

A guide's stable address is `/g/{code}`: never a version or a database id, so a QR code on paper
keeps working after the guide changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode


@dataclass(frozen=True, slots=True)
class Urls:
    public_url: str = "http://localhost:8000"

    def home(self) -> str:
        return "/"

    def items(self, **params: object) -> str:
        query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
        return "/items" + (f"?{query}" if query else "")

    def guide(self, code: str) -> str:
        return f"/g/{quote(code)}"

    def guide_absolute(self, code: str) -> str:
        """What a QR code and a printed page carry."""
        return self.public_url.rstrip("/") + self.guide(code)

    def api_items(self, **params: object) -> str:
        query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
        return "/api/items" + (f"?{query}" if query else "")

    def api_item(self, code: str) -> str:
        return f"/api/items/{quote(code)}"

    def static(self, path: str) -> str:
        return f"/static/{path}"
