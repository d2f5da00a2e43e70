"""Search pages: /search for everyone (plain GET form; htmx swaps the results block as the user
types), /staff/search with links to the edit pages, and the admins' synonyms and "not found"
pages."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from guides.i18n import _
from registry.access import PermissionDenied
from registry.errors import FieldError, ValidationError
from registry.inputs import fields_of, read
from registry.reads.public import PublicReads
from registry.search import drafts, misses, names, query, vocabulary
from registry.search.query import PAGE_SIZE, Results, SearchParams, search
from registry.tables import Role
from registry.vocab import ITEM_TYPES
from registry.web.auth import staff_guard
from registry.web.deps import now
from registry.web.events import matching_events
from registry.web.rendering import cached_response, render

TITLES = {f.name: f.title for f in fields_of(SearchParams)}


def _is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


LIVE_HEADER = "X-Search-Live"  # sent by the search box's as-you-type requests (templates/search.html)


def _is_live(request: Request) -> bool:
    """An as-you-type request: its query may be half a word, so it is never counted as a miss
    (a submitted search, a plain GET or a shared address is)."""
    return _is_htmx(request) and request.headers.get(LIVE_HEADER) == "1"


async def _search(reads: PublicReads, params: SearchParams) -> Results:
    """`search()` with what it needs per change-log head: the vocabulary and the typo names."""
    vocab = await reads.memo("search-vocabulary", vocabulary.load)
    return await search(params, vocab, names=await reads.memo("search-names", names.load))


async def read_params(request: Request, reads: PublicReads) -> tuple[SearchParams, list[FieldError]]:
    """The query's parameters through the one input reader; unknown parameters are ignored (a
    shared address may carry anything), bad ones are errors naming the field in Chinese."""
    known = {k: request.query_params.get(k) for k in TITLES if k in request.query_params}
    try:
        params = read(SearchParams, known)
    except ValidationError as exc:
        errors = [FieldError(e.field, f"{TITLES.get(e.field, e.field)}：{e.message}") for e in exc.errors]
        return SearchParams(), errors
    errors = []
    if params.department and not await reads.department_exists(params.department):
        errors.append(FieldError("department", _("没有编码为“{v}”的实施主体", v=params.department)))
    vocab = await reads.memo("search-vocabulary", vocabulary.load)
    if params.topic and vocab.topic(params.topic) is None:
        errors.append(FieldError("topic", _("没有编码为“{v}”的主题", v=params.topic)))
    return params, errors


async def topic_counts(reads: PublicReads) -> dict[str, str]:
    """Items per topic (for the topic links), counted once per change-log head."""
    vocab = await reads.memo("search-vocabulary", vocabulary.load)
    return await reads.memo("search-topic-counts", lambda: query.topic_counts(vocab))


async def _context(reads: PublicReads, params: SearchParams, results: Results | None, errors) -> dict:
    vocab = await reads.memo("search-vocabulary", vocabulary.load)
    return {
        "params": params,
        "results": results,
        "errors": errors,
        "departments": await reads.department_summaries(),
        "topics": vocab.topics,
        "topic_counts": await topic_counts(reads),
        "topic": vocab.topic(params.topic) if params.topic else None,
        "item_types": ITEM_TYPES,
        "page_size": PAGE_SIZE,
    }


async def _record_miss(request: Request, params: SearchParams) -> None:
    try:
        await misses.record(params.q, now(request))
    except Exception:  # counting is best effort: never fail a citizen's search for it
        import logging

        logging.getLogger("onetrip").warning("could not record a search miss", exc_info=True)


class SearchController(Controller):
    include_in_schema = False

    @get("/search", name="search")
    async def search_page(self, request: Request, reads: NamedDependency[PublicReads]) -> Response[bytes]:
        params, errors = await read_params(request, reads)
        htmx = _is_htmx(request)
        block = "results" if htmx else None
        headers = {"Vary": "HX-Request"}
        if errors:
            # htmx swaps only 2xx: the errors are shown in the results; a plain request gets a 400.
            body = render(request, "search.html", await _context(reads, params, None, errors), block=block)
            return cached_response(request, body, headers=headers, status_code=200 if htmx else 400)

        async def page() -> tuple[bytes, bool]:
            results = await _search(reads, params)
            context = await _context(reads, params, results, [])
            context["life_events"] = await matching_events(reads, params)
            return render(request, "search.html", context, block=block), results.found

        body, found = await reads.page(("search", params, htmx), page)
        if params.q and not found and not params.filtered and not _is_live(request):
            await _record_miss(request, params)
        return cached_response(request, body, headers=headers)


def _admin(request: Request) -> None:
    if request.state.actor.role != Role.admin:
        raise PermissionDenied(_("只有管理员可以编辑同义词。"))


class StaffSearchController(Controller):
    path = "/staff/search"
    guards = [staff_guard]  # noqa: RUF012
    include_in_schema = False

    @get("/", name="staff_search")
    async def staff_search(self, request: Request, reads: NamedDependency[PublicReads]) -> Template:
        params, errors = await read_params(request, reads)
        results, open_editions = None, []
        if not errors and (params.q or params.filtered):
            results = await _search(reads, params)
        if not errors and params.q and params.page == 1:
            vocab = await reads.memo("search-vocabulary", vocabulary.load)
            open_editions = await drafts.open_editions(params.q, request.state.actor, vocab)
        context = await _context(reads, params, results, errors)
        return Template(
            "staff/search.html",
            context={**context, "actor": request.state.actor, "open_editions": open_editions},
            status_code=400 if errors else 200,
        )

    @get("/misses", name="staff_search_misses")
    async def list_misses(self, request: Request) -> Template:
        return Template(
            "staff/search_misses.html",
            context={"actor": request.state.actor, "misses": await misses.top()},
        )

    @get("/synonyms", name="staff_synonyms")
    async def list_synonyms(self, request: Request) -> Template:
        _admin(request)
        return await self._synonyms_page(request, {}, {})

    async def _synonyms_page(
        self, request: Request, errors: dict, values: dict, status: int = 200
    ) -> Template:
        return Template(
            "staff/synonyms.html",
            context={
                "actor": request.state.actor,
                "synonyms": await vocabulary.list_synonyms(),
                "errors": errors,
                "values": values,
            },
            status_code=status,
        )

    @post("/synonyms", name="staff_synonyms_save")
    async def save_synonym(self, request: Request) -> Template | Redirect:
        """Add or change a term; from the "not found" page, the query becomes the term."""
        _admin(request)
        form = await request.form()
        values: dict[str, Any] = {k: form.get(k) or "" for k in ("term", "means", "kind")}
        values["kind"] = values["kind"] or "synonym"
        try:
            await vocabulary.save_synonym(read(vocabulary.SynonymForm, values), now(request))
        except ValidationError as exc:
            if form.get("from") == "misses":
                return Redirect(path=request.app.route_reverse("staff_search_misses"))
            return await self._synonyms_page(request, {e.field: e.message for e in exc.errors}, values, 400)
        if form.get("from") == "misses":
            await misses.forget(values["term"])
            return Redirect(path=request.app.route_reverse("staff_search_misses"))
        return Redirect(path=request.app.route_reverse("staff_synonyms"))

    @post("/synonyms/{synonym_id:int}/delete", name="staff_synonyms_delete")
    async def delete_synonym(self, request: Request, synonym_id: FromPath[int]) -> Redirect:
        _admin(request)
        await vocabulary.delete_synonym(synonym_id)
        return Redirect(path=request.app.route_reverse("staff_synonyms"))
