"""The composition root: the one place that wires settings, database, templates and routes."""

from __future__ import annotations

import asyncio
import gc
import logging
import warnings
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from litestar import Litestar, MediaType, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine

from guides.clock import system_now
from guides.urls import Urls
from registry import rendered
from registry.db import KeptReadsSQLiteEngine, bind, engine_for, prepare
from registry.errors import DomainError
from registry.reads.public import PublicReads, invalidate
from registry.search import tokens as search_tokens
from registry.settings import PROJECT_ROOT, Settings
from registry.web.account import AccountController
from registry.web.admin import AdminController
from registry.web.api import ApiController
from registry.web.auth import AuthController, csrf_config
from registry.web.channels import ChannelController, NoticeController
from registry.web.errors import domain_error_handler, http_exception_handler, internal_error_handler
from registry.web.events import EventController, StaffEventController
from registry.web.files import FileController
from registry.web.laws import LawsApiController, LawsController, StaffLawsController
from registry.web.materials import MaterialsApiController, MaterialsController, StaffMaterialsController
from registry.web.metrics import MetricsController
from registry.web.openapi import JsonSchemaPlugin, SwaggerPage
from registry.web.params import check_request_input
from registry.web.public import PublicController
from registry.web.screen import ScreenAdminController, ScreenController
from registry.web.search import SearchController, StaffSearchController
from registry.web.security import security_headers_hook
from registry.web.spreadsheets import SpreadsheetController
from registry.web.staff import StaffController
from registry.web.staff_api import StaffApiController
from registry.web.upkeep import UpkeepController

log = logging.getLogger("onetrip")
# CSRF is meant for the staff paths only (registry/web/auth.py NOT_STAFF); Litestar
# warns that such an exclude pattern "matches all paths" because it also matches "/".
warnings.filterwarnings("ignore", message=r"Middleware '\w+' exclude pattern .* greedily matches")
STATIC_DIR = PROJECT_ROOT / "static"
SWAGGER = "/static/vendor/swagger-ui-5.18.2"


@get("/healthz", include_in_schema=False, cache=False)
async def healthz() -> dict[str, str]:
    from registry.tables import Department

    await Department.count()
    return {"status": "ok"}


@get("/livez", include_in_schema=False, cache=False, media_type=MediaType.TEXT, sync_to_thread=False)
def livez() -> str:
    """Liveness: a plain-text answer that touches no database (the benchmarks' baseline)."""
    return "ok"


async def publish_loop(interval: float, clock: Callable[[], datetime] = system_now) -> None:
    """Publish what is due and switch scheduled guides on their date, with no one acting."""
    from registry.editions.publication import publish_due

    while True:
        try:
            report = await publish_due(now=clock())
            if report.published or report.activated:
                invalidate()  # committed: this process's public pages show it at once
                log.info("publish-due: published %s, activated %s", report.published, report.activated)
        except Exception:
            log.exception("publish-due failed; retrying in %s s", interval)
        await asyncio.sleep(interval)


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def fresh_after_writes(reads: PublicReads) -> Callable[[ASGIApp], ASGIApp]:
    """After any unsafe request of this process (a staff save, approval, import …), the next
    public request reads the change log's head at once instead of within HEAD_INTERVAL."""

    def middleware(app: ASGIApp) -> ASGIApp:
        async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
                await app(scope, receive, send)
                return

            async def sending(message: Message) -> None:
                if message["type"] == "http.response.start":
                    reads.invalidate()
                await send(message)

            await app(scope, receive, sending)

        return wrapped

    return middleware


class OnetripApp(Litestar):
    """Litestar, answering HEAD wherever GET answers: routed as GET, sent without the body
    (headers, status and Content-Length as for GET)."""

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[override]
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await super().__call__(scope, receive, send)
            return

        async def send_headers_only(message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await super().__call__({**scope, "method": "GET"}, receive, send_headers_only)


def settle_heap() -> None:
    """Move everything a served process holds after its startup — jieba's and pypinyin's
    dictionaries, compiled templates, the calendar, ≈ 320 000 objects — out of the cyclic garbage
    collector's reach (`gc.freeze`). Otherwise every full collection walks them all and holds
    the event loop for ≈ 100 ms (measured at 10 000 items under random guide requests: eleven
    such pauses in 30 s, the longest 136 ms); after it, a full collection walks only what
    requests made since. The frozen objects are never freed, which is what they are for."""
    gc.collect()
    gc.freeze()


def create_served_app() -> Litestar:
    """The app as `onetrip serve` runs it (uvicorn's factory): `create_app(serving=True)`."""
    return create_app(serving=True)


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    pool: bool = True,
    clock: Callable[[], datetime] = system_now,
    serving: bool = False,
) -> Litestar:
    """Build the app. `pool=False` keeps PostgreSQL on a connection per query (tests, whose
    client runs the app in another event loop than the test's own queries). `clock` is the one
    source of the current time for every request (tests inject a fixed one). `serving`: a process
    of its own that `onetrip serve` runs — jieba's dictionary in a trie (search_tokens.
    warm_up_compact), once started its heap frozen (`settle_heap`) and every item's lookup
    loaded in the background (PublicReads.preload); tests build many apps in one process and do
    none of these."""
    settings = settings or Settings.from_env()
    engine = engine or engine_for(settings)
    bind(engine)
    if not settings.public_url:
        log.warning(
            "ONETRIP_PUBLIC_URL is not set: QR codes use %s; production must set it", settings.base_url
        )
    urls = Urls(settings.base_url, map_template=settings.map_url)

    environment = rendered.environment(urls)

    background: list[asyncio.Task] = []
    reads = PublicReads()

    def provide_urls(settings: Settings) -> Urls:
        return urls

    def provide_reads(urls: Urls) -> PublicReads:
        return reads

    async def on_startup() -> None:
        await prepare(engine)
        if pool and isinstance(engine, PostgresEngine):
            await engine.start_connection_pool()
        if serving:  # jieba's frequencies from a 2 MB trie instead of a 62 MB dict
            await asyncio.to_thread(search_tokens.warm_up_compact, Path(settings.state_dir))
        else:
            await asyncio.to_thread(search_tokens.warm_up)  # jieba's dictionary: ~1 s, once per process
        if settings.publish_interval > 0:
            background.append(asyncio.create_task(publish_loop(settings.publish_interval, clock)))
        if serving:
            settle_heap()
            # Every item's current edition in memory, read in the background (≈ 1 s at 100 000).
            reads.preloading = True
            reads.start_preload()

    async def on_shutdown() -> None:
        reads.stop_preload()
        for task in background:
            task.cancel()
        if pool and isinstance(engine, PostgresEngine):
            await engine.close_connection_pool()
        if pool and isinstance(engine, KeptReadsSQLiteEngine):
            await asyncio.to_thread(engine.close_readers)

    return OnetripApp(
        route_handlers=[
            PublicController,
            EventController,
            StaffEventController,
            SearchController,
            StaffSearchController,
            ApiController,
            ChannelController,
            FileController,
            NoticeController,
            StaffApiController,
            AuthController,
            AccountController,
            StaffController,
            UpkeepController,
            LawsController,
            LawsApiController,
            StaffLawsController,
            MaterialsController,
            MaterialsApiController,
            StaffMaterialsController,
            AdminController,
            ScreenController,
            ScreenAdminController,
            MetricsController,
            SpreadsheetController,
            healthz,
            livez,
            create_static_files_router(
                path="/static", directories=[Path(STATIC_DIR)], include_in_schema=False
            ),
        ],
        dependencies={
            # Chained (urls after settings, reads after urls) so that Litestar resolves them one
            # after another: independent dependencies are resolved concurrently, in an anyio task
            # group per request — ~12 % of the time of a page served from memory.
            "settings": Provide(lambda: settings, use_cache=True, sync_to_thread=False),
            "urls": Provide(provide_urls, use_cache=True, sync_to_thread=False),
            "reads": Provide(provide_reads, use_cache=True, sync_to_thread=False),
        },
        template_config=TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment)),
        plugins=[HTMXPlugin()],
        middleware=[fresh_after_writes(reads)],
        csrf_config=csrf_config(settings),
        exception_handlers={
            HTTPException: http_exception_handler,
            DomainError: domain_error_handler,
            Exception: internal_error_handler,
        },
        openapi_config=OpenAPIConfig(
            title="onetrip open data API",
            version="1",
            description="乌鲁木齐市政务服务事项办事指南开放接口 — every published guide as JSON.",
            path="/schema",
            components=Components(
                security_schemes={
                    "BearerToken": SecurityScheme(
                        type="http",
                        scheme="bearer",
                        description="`onetrip token create USER` prints a token.",
                    )
                }
            ),
            render_plugins=[
                SwaggerPage(
                    path=["/", "/swagger"],
                    js_url=f"{SWAGGER}/swagger-ui-bundle.js",
                    css_url=f"{SWAGGER}/swagger-ui.css",
                    standalone_preset_js_url=f"{SWAGGER}/swagger-ui-standalone-preset.js",
                    favicon="",
                ),
                JsonSchemaPlugin(),
            ],
        ),
        before_send=[security_headers_hook(settings)],
        before_request=check_request_input,
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        state=State({"settings": settings, "clock": clock, "reads": reads, "urls": urls}),
        debug=settings.debug,
    )
