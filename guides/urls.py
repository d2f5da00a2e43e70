"""The one URL builder. Templates, QR codes and printed addresses all ask it.

A guide's stable address is `/g/{code}`: never a version or a database id, so a QR code on paper
keeps working after the guide changes. Every channel of a guide lives under that address
(`/g/{code}/print`, `/g/{code}/qr.svg`, `/g/{code}/guide.json` …).

`StaticUrls` is the same builder for the static-site export: relative links (`root` is the way
back to the site's top folder from the page being written), so the export works from any web
server and from a plain folder (file://).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlencode


@dataclass(frozen=True, slots=True)
class Urls:
    public_url: str = "http://localhost:8000"
    # A map link for a venue's coordinates: "{lat}", "{lng}" and "{name}" are filled in; empty
    # means no map link (the halls' networks are closed: point it at a map the city runs).
    map_template: str = ""

    def home(self) -> str:
        return "/"

    def items(self, **params: object) -> str:
        query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
        return "/items" + (f"?{query}" if query else "")

    def search(self, **params: object) -> str:
        """The search page: a shareable address for any query, filters and page."""
        query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
        return "/search" + (f"?{query}" if query else "")

    def guide(self, code: str) -> str:
        return f"/g/{quote(code)}"

    def guide_absolute(self, code: str) -> str:
        """What a QR code and a printed page carry."""
        return self.public_url.rstrip("/") + f"/g/{quote(code)}"

    def guide_printed(self, code: str, version: int) -> str:
        """What a printed guide carries: the stable address plus the version on the paper, so the
        page can tell a reader holding an old printout what has changed since."""
        return f"{self.guide_absolute(code)}?v={version}"

    def print(self, code: str) -> str:
        return f"/g/{quote(code)}/print"

    def notice(self, code: str, params: Mapping[str, str] | None = None) -> str:
        """The one-time notice for some answers (and a clerk's marks): all of it in the address."""
        query = urlencode(dict(params or {}))
        return f"/g/{quote(code)}/notice" + (f"?{query}" if query else "")

    def notice_absolute(self, code: str, params: Mapping[str, str] | None = None) -> str:
        """What the notice's QR code and printed address carry."""
        return self.public_url.rstrip("/") + Urls.notice(self, code, params)

    def notice_json(self, code: str, params: Mapping[str, str] | None = None) -> str:
        query = urlencode(dict(params or {}))
        return f"/g/{quote(code)}/notice.json" + (f"?{query}" if query else "")

    def counter(self, code: str, params: Mapping[str, str] | None = None) -> str:
        """The clerk's form: mark materials brought, missing or 容缺后补."""
        query = urlencode(dict(params or {}))
        return f"/g/{quote(code)}/counter" + (f"?{query}" if query else "")

    def map(self, name: str, coordinates: str) -> str:
        """A map link for a venue, or "" (no template, or coordinates that do not read)."""
        if not self.map_template or not coordinates:
            return ""
        lat, _sep, lng = coordinates.partition(",")
        return self.map_template.format(
            lat=quote(lat.strip()), lng=quote(lng.strip()), name=quote(name, safe="")
        )

    def attachment(self, sha256: str, name: str) -> str:
        """A file of a guide (空白表格, 示例样表, 结果样本): one address per SHA-256; the name
        only names the download."""
        return f"/files/{sha256}/{quote(name, safe='')}"

    def qr_svg(self, code: str) -> str:
        return f"/g/{quote(code)}/qr.svg"

    def qr_png(self, code: str) -> str:
        return f"/g/{quote(code)}/qr.png"

    def guide_json(self, code: str) -> str:
        return f"/g/{quote(code)}/guide.json"

    def guide_md(self, code: str) -> str:
        return f"/g/{quote(code)}/guide.md"

    def history(self, code: str) -> str:
        return f"/g/{quote(code)}/history"

    def api_items(self, **params: object) -> str:
        query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
        return "/api/items" + (f"?{query}" if query else "")

    def api_item(self, code: str) -> str:
        return f"/api/items/{quote(code)}"

    def static(self, path: str) -> str:
        return f"/static/{path}"

    def metrics(self, **params: object) -> str:
        return "/metrics" + _query(params)

    def metrics_unit(self, code: str, **params: object) -> str:
        return f"/metrics/unit/{quote(code)}" + _query(params)

    def metrics_export(self, extension: str, **params: object) -> str:
        return f"/metrics/export.{extension}" + _query(params)

    def api_metrics(self, **params: object) -> str:
        return "/api/metrics" + _query(params)

    def feed(self) -> str:
        return "/changes.atom"

    def api_docs(self) -> str:
        return "/schema"

    def screen_slides(self, window: str) -> str:
        return f"/screen/{quote(window)}/slides"

    def events(self) -> str:
        """Every life event (一件事)."""
        return "/e"

    def event(self, code: str) -> str:
        """A life event's stable address (its QR code carries it)."""
        return f"/e/{quote(code)}"

    def event_absolute(self, code: str) -> str:
        return self.public_url.rstrip("/") + Urls.event(self, code)

    def event_print(self, code: str) -> str:
        return f"/e/{quote(code)}/print"

    def event_json(self, code: str) -> str:
        return f"/e/{quote(code)}/event.json"

    def event_qr_svg(self, code: str) -> str:
        return f"/e/{quote(code)}/qr.svg"

    def event_qr_png(self, code: str) -> str:
        return f"/e/{quote(code)}/qr.png"

    def staff_events(self) -> str:
        return "/staff/events"

    def staff_event(self, code: str) -> str:
        return f"/staff/events/{quote(code)}"

    def staff_event_review(self, code: str) -> str:
        return f"/staff/events/{quote(code)}/review"

    def laws(self) -> str:
        return "/laws"

    def api_laws(self) -> str:
        return "/api/laws"

    def api_law(self, code: str) -> str:
        return f"/api/laws/{quote(code)}"

    def materials(self, **params: object) -> str:
        return "/materials" + _query(params)

    def api_materials(self) -> str:
        return "/api/materials"

    def reduction(self, **params: object) -> str:
        """减证: government-issued materials citizens are still asked for."""
        return "/materials/reduction" + _query(params)

    def reduction_export(self, extension: str, **params: object) -> str:
        return f"/materials/reduction.{extension}" + _query(params)


@dataclass(frozen=True, slots=True)
class StaticUrls(Urls):
    """Relative links inside an exported static site. `root` leads from the current page back to
    the site's top folder ("" for index.html, "../../" for g/{code}/index.html)."""

    root: str = ""

    def at(self, depth: int) -> StaticUrls:
        """The builder for a page `depth` folders below the top."""
        return dataclasses.replace(self, root="../" * depth)

    def _guide_dir(self, code: str) -> str:
        return f"{self.root}g/{quote(code, safe='')}/"

    def home(self) -> str:
        return f"{self.root}index.html"

    def items(self, **params: object) -> str:
        """Only per-department lists exist in a static site; any other filter is the index."""
        department = params.get("department")
        others = {k: v for k, v in params.items() if k != "department" and v not in (None, "")}
        if department and not others:
            return self.department(str(department))
        return self.home()

    def department(self, code: str) -> str:
        return f"{self.root}departments/{quote(code, safe='')}.html"

    def search(self, **params: object) -> str:
        """A static site has no search: the live site's."""
        return self.public_url.rstrip("/") + Urls.search(self, **params)

    def guide(self, code: str) -> str:
        return self._guide_dir(code) + "index.html"

    def print(self, code: str) -> str:
        return self._guide_dir(code) + "print.html"

    def attachment(self, sha256: str, name: str) -> str:
        """The copy the export writes (guides/export.py): files/{sha256}/{name}."""
        return self.root + Urls.attachment(self, sha256, name).lstrip("/")

    def qr_svg(self, code: str) -> str:
        return self._guide_dir(code) + "qr.svg"

    def qr_png(self, code: str) -> str:
        return self._guide_dir(code) + "qr.png"

    def guide_json(self, code: str) -> str:
        return self._guide_dir(code) + "guide.json"

    def guide_md(self, code: str) -> str:
        return self._guide_dir(code) + "guide.md"

    def notice(self, code: str, params: Mapping[str, str] | None = None) -> str:
        """Notices are made by the live site."""
        return self.public_url.rstrip("/") + Urls.notice(self, code, params)

    def notice_json(self, code: str, params: Mapping[str, str] | None = None) -> str:
        return self.public_url.rstrip("/") + Urls.notice_json(self, code, params)

    def counter(self, code: str, params: Mapping[str, str] | None = None) -> str:
        return self.public_url.rstrip("/") + Urls.counter(self, code, params)

    def history(self, code: str) -> str:
        """Change history is not exported: link to the live site."""
        return self.public_url.rstrip("/") + Urls.history(self, code)

    def api_items(self, **params: object) -> str:
        return self.home()

    def api_item(self, code: str) -> str:
        return self.guide_json(code)

    def static(self, path: str) -> str:
        return f"{self.root}static/{path}"

    # Pages only the live site has: an exported page links to them there.
    def metrics(self, **params: object) -> str:
        return self.public_url.rstrip("/") + Urls.metrics(self, **params)

    def metrics_unit(self, code: str, **params: object) -> str:
        return self.public_url.rstrip("/") + Urls.metrics_unit(self, code, **params)

    def metrics_export(self, extension: str, **params: object) -> str:
        return self.public_url.rstrip("/") + Urls.metrics_export(self, extension, **params)

    def api_metrics(self, **params: object) -> str:
        return self.public_url.rstrip("/") + Urls.api_metrics(self, **params)

    def feed(self) -> str:
        return self.public_url.rstrip("/") + Urls.feed(self)

    def api_docs(self) -> str:
        return self.public_url.rstrip("/") + Urls.api_docs(self)

    def screen_slides(self, window: str) -> str:
        return self.public_url.rstrip("/") + Urls.screen_slides(self, window)

    # Life events are pages of the live site (not exported yet): an exported page links there.
    def events(self) -> str:
        return self.public_url.rstrip("/") + Urls.events(self)

    def event(self, code: str) -> str:
        return self.public_url.rstrip("/") + Urls.event(self, code)

    def event_absolute(self, code: str) -> str:
        return Urls.event_absolute(self, code)

    def event_print(self, code: str) -> str:
        return self.public_url.rstrip("/") + Urls.event_print(self, code)

    def event_json(self, code: str) -> str:
        return self.public_url.rstrip("/") + Urls.event_json(self, code)

    def event_qr_svg(self, code: str) -> str:
        return self.public_url.rstrip("/") + Urls.event_qr_svg(self, code)

    def event_qr_png(self, code: str) -> str:
        return self.public_url.rstrip("/") + Urls.event_qr_png(self, code)

    def staff_events(self) -> str:
        return self.public_url.rstrip("/") + Urls.staff_events(self)

    def staff_event(self, code: str) -> str:
        return self.public_url.rstrip("/") + Urls.staff_event(self, code)

    def staff_event_review(self, code: str) -> str:
        return self.public_url.rstrip("/") + Urls.staff_event_review(self, code)

    def laws(self) -> str:
        return self.public_url.rstrip("/") + Urls.laws(self)

    def api_laws(self) -> str:
        return self.public_url.rstrip("/") + Urls.api_laws(self)

    def api_law(self, code: str) -> str:
        return self.public_url.rstrip("/") + Urls.api_law(self, code)

    def materials(self, **params: object) -> str:
        return self.public_url.rstrip("/") + Urls.materials(self, **params)

    def api_materials(self) -> str:
        return self.public_url.rstrip("/") + Urls.api_materials(self)

    def reduction(self, **params: object) -> str:
        return self.public_url.rstrip("/") + Urls.reduction(self, **params)

    def reduction_export(self, extension: str, **params: object) -> str:
        return self.public_url.rstrip("/") + Urls.reduction_export(self, extension, **params)


def _query(params: Mapping[str, object]) -> str:
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f"?{query}" if query else ""
