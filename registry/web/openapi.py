"""The OpenAPI document as the API really behaves, and a Swagger UI page without inline script.

Litestar documents its own error shape (`{status_code, detail, extra}`); every error of this API
is `{"error": {"status", "message", "fields": [{"field", "message"}]}}` (registry/web/errors.py),
so the document is corrected once, where it is rendered.
"""

from __future__ import annotations

from html import escape
from typing import Any

from litestar import Request, Router
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "message", "fields"],
            "properties": {
                "status": {"type": "integer"},
                "message": {"type": "string"},
                "fields": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["field", "message"],
                        "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                    },
                },
                "current_lock_version": {"type": "integer"},
            },
        }
    },
}
ERROR_REF = {"$ref": "#/components/schemas/Error"}
DESCRIPTIONS = {"400": "Bad request", "401": "Not signed in", "403": "Forbidden", "404": "Not found",
                "409": "Conflict", "429": "Too many requests", "500": "Server error"}  # fmt: skip


def with_error_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Every 4xx/5xx response of every operation answers with the `Error` schema (in place, once)."""
    if schema.get("components", {}).get("schemas", {}).get("Error") == ERROR_SCHEMA:
        return schema
    schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            codes = {"400"}
            if operation.get("security"):
                codes |= {"401", "403", "404", "409"}
            elif "{" in str(operation.get("operationId", "")) or any(
                p.get("in") == "path" for p in operation.get("parameters", [])
            ):
                codes |= {"404"}
            for code in codes:
                responses.setdefault(code, {"description": DESCRIPTIONS[code]})
            for code, response in responses.items():
                if code[:1] in ("4", "5"):
                    response["content"] = {"application/json": {"schema": ERROR_REF}}
    return schema


class JsonSchemaPlugin(JsonRenderPlugin):
    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, with_error_schema(openapi_schema))


class SwaggerPage(SwaggerRenderPlugin):
    """The vendored Swagger UI, started by static/js/swagger-init.js (no inline script or style)."""

    def receive_router(self, router: Router) -> None:
        """No OAuth2 redirect page: the API uses bearer tokens (and that page is inline script)."""

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        title = escape(str(openapi_schema["info"]["title"]))
        return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link href="{self.css_url}" rel="stylesheet">
<script src="{self.js_url}"></script>
<script src="{self.standalone_preset_js_url}"></script>
<script src="/static/js/swagger-init.js"></script>
</head><body><div id="swagger-container" data-spec-url="/schema/openapi.json"></div></body></html>
""".encode()
