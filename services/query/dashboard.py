"""The routes behind the web dashboard, under ``/api/v1/dashboard``.

The page (``static/``) is plain ES modules served as files; these routes give
it what the public API does not: sign-in, the runs table filtered and sorted
in SQL, bucketed chart series for many runs at once, project overviews with
sparklines, saved dashboards and the live event stream.

The router has its own lifespan (merged into the application's): it opens
the ``views`` and ``accounts`` KV buckets and follows the writer's live
channel.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel

from ..common import bus
from ..common.accounts import Principal
from ..writer.storage import Storage
from . import dashboard_media, dashboard_proxy
from . import dashboard_session as session
from . import dashboard_table as table
from .auth import principal, require_entity
from .dashboard_live import LiveHub, Watch
from .dashboard_series import SeriesError, SeriesRequest, read_series
from .dashboard_views import ColumnChoices, Dashboards, ViewError
from .fallback import PageRoute
from .filters import FilterError, compile_filter
from .search import PIVOT
from .values import encode

logger = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    hub = LiveHub(app.state.config.redis_url)
    app.state.live = hub
    tasks = [asyncio.create_task(hub.run(), name="live")]
    nc = await bus.connect(app.state.config, "lodestar-query-dashboard")
    js = nc.jetstream(timeout=10)
    kv = await bus.bucket(js, bus.BUCKET_VIEWS, history=5)
    app.state.dashboards = Dashboards(kv)
    app.state.column_choices = ColumnChoices(kv)
    accounts = await bus.bucket(js, bus.BUCKET_ACCOUNTS, history=5)
    app.state.accounts_kv = accounts
    app.state.local_keys = session.LocalKeys(accounts, app.state.config.server_secret)
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await nc.close()


router = APIRouter(prefix="/api/v1/dashboard", tags=["dashboard"], lifespan=_lifespan)
Caller = Annotated[Principal, Depends(principal)]
Many = Annotated[list[str] | None, Query()]


class SignIn(BaseModel):
    api_key: str


class ColumnChoice(BaseModel):
    order: list[str]
    hidden: list[str] = []


class SavedDashboard(BaseModel):
    title: str = ""
    filter: str = ""
    panels: list[dict[str, Any]] = []


def _storage(request: Request) -> Storage:
    return request.app.state.storage


# ---- session ----------------------------------------------------------------------


@router.post("/session")
def sign_in(request: Request, response: Response, body: SignIn) -> dict[str, Any]:
    """Check an API key and keep it in the page's cookie."""
    return session.sign_in(request, response, body.api_key)


@router.get("/session")
async def who_signed_in(request: Request, who: Caller) -> dict[str, Any]:
    """The signed-in user, with each membership's entity kind and role."""
    found = await session.memberships(request.app.state.accounts_kv,
                                      request.app.state.accounts, who)
    return {**session.viewer(who), "memberships": found}


@router.post("/session/local")
async def sign_in_locally(request: Request, response: Response) -> dict[str, Any]:
    """The only user of a local platform, from the loopback address only."""
    return await session.sign_in_locally(request, response)


@router.delete("/session", status_code=204)
def sign_out(response: Response) -> Response:
    session.sign_out(response)
    response.status_code = 204
    return response


# ---- projects and runs ------------------------------------------------------------


@router.get("/projects")
def projects(
    request: Request, who: Caller, entity: str | None = None, metric: str = ""
) -> dict[str, Any]:
    """Each project with run count, last activity and a sparkline.

    The sparkline is `metric`'s summary value over the project's latest 40
    runs, oldest first; without a metric, the runs created per day over the
    last 30 days of activity.
    """
    entity = entity or who.default_entity
    require_entity(who, entity)
    storage = _storage(request)
    found = storage.query(_PROJECTS, {"e": entity, "m": metric})
    metrics = storage.query(_SUMMARY_KEYS, {"e": entity})
    return {
        "entity": entity,
        "metric": metric,
        "metrics": [row["name"] for row in metrics],
        "projects": [_project(entity, row, metric) for row in found],
    }


_PROJECTS = """
SELECT project, count() AS runs, max(last_at) AS last_at,
       arrayReverse(groupArray(40)(v)) AS spark,
       groupArray(10000)(created) AS created
FROM (
    SELECT project, run_id, max(timestamp) AS last_at,
           minIf(toFloat64OrZero(value), field = 'created_at') AS created,
           toFloat64OrNull(anyIf(value, field = 'summary' AND name = {m:String}))
           AS v
    FROM run_fields FINAL WHERE entity = {e:String}
    GROUP BY project, run_id HAVING countIf(field = 'deleted') = 0
    ORDER BY created DESC
)
GROUP BY project ORDER BY last_at DESC
"""

_SUMMARY_KEYS = """
SELECT DISTINCT name FROM run_fields
WHERE entity = {e:String} AND field = 'summary' AND NOT startsWith(name, '_')
ORDER BY name LIMIT 500
"""


def _project(entity: str, row: dict[str, Any], metric: str) -> dict[str, Any]:
    if metric:
        spark = [v for v in row["spark"] if v is not None]
    else:
        spark = _per_day(row["created"])
    return {"entity": entity, "name": row["project"], "run_count": row["runs"],
            "last_activity": row["last_at"], "sparkline": encode(spark)}


def _per_day(created: list[float], days: int = 30) -> list[int]:
    if not created:
        return []
    last = max(created) // 86400
    counts = [0] * days
    for at in created:
        back = int(last - at // 86400)
        if 0 <= back < days:
            counts[days - 1 - back] += 1
    return counts


@router.get("/runs/{entity}/{project}")
def runs_table(
    request: Request,
    who: Caller,
    entity: str,
    project: str,
    filter: str = "",
    sort: str = "-created_at",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """One page of runs, filtered and sorted by the store, on any column."""
    require_entity(who, entity)
    try:
        where = (entity, project, table.parse_filter(filter))
        found = table.table_page(_storage(request), request.app.state.config.public_url,
                                 where, sort, limit, offset)
    except (table.FilterError, FilterError) as exc:
        raise HTTPException(422, str(exc)) from exc
    return {**found, "offset": offset, "limit": limit, "filter": filter, "sort": sort}


@router.get("/groups/{entity}/{project}")
def run_groups(
    request: Request, who: Caller, entity: str, project: str,
    by: str = "group", filter: str = "",
) -> dict[str, Any]:
    """The values of `by` among the filtered runs, with counts and member ids."""
    require_entity(who, entity)
    try:
        where = compile_filter(table.parse_filter(filter))
        value, params = table.group_column(by)
    except (table.FilterError, FilterError) as exc:
        raise HTTPException(422, str(exc)) from exc
    found = _storage(request).query(
        f"SELECT {value} AS value, count() AS runs, "
        "groupArray(200)(run_id) AS ids "
        f"FROM ({PIVOT}) WHERE tombstones = 0 AND ({where.sql}) "
        "GROUP BY value ORDER BY value LIMIT 1000",
        {**where.params, **params, "e": entity, "p": project},
    )
    return {"by": by, "groups": found}


@router.get("/columns/{entity}/{project}")
def columns(request: Request, who: Caller, entity: str, project: str) -> dict:
    """Config keys, summary keys and history keys the table and charts offer."""
    require_entity(who, entity)
    params = {"e": entity, "p": project}
    rows = _storage(request).query(_COLUMNS, params)
    keys = _storage(request).query(_HISTORY_KEYS, params)
    found: dict[str, list[str]] = {"config": [], "summary": []}
    for row in rows:
        found[row["field"]].append(row["name"])
    return {**found, "history": [row["key"] for row in keys]}


@router.get("/columns/{entity}/{project}/choice")
async def column_choice(
    request: Request, who: Caller, entity: str, project: str
) -> dict[str, Any]:
    """The caller's columns of this project's table; ``order`` null if never set."""
    require_entity(who, entity)
    choices: ColumnChoices = request.app.state.column_choices
    found = await choices.get(who.user, entity, project)
    return found or {"order": None, "hidden": []}


@router.put("/columns/{entity}/{project}/choice")
async def save_column_choice(
    request: Request, who: Caller, entity: str, project: str, body: ColumnChoice
) -> dict[str, Any]:
    """Keep the caller's column order and hidden columns for this project."""
    require_entity(who, entity)
    choices: ColumnChoices = request.app.state.column_choices
    try:
        return await choices.save(who.user, entity, project, body.model_dump())
    except ViewError as exc:
        raise HTTPException(422, str(exc)) from exc


@router.delete("/columns/{entity}/{project}/choice", status_code=204)
async def forget_column_choice(
    request: Request, who: Caller, entity: str, project: str
) -> Response:
    """Back to the default columns for the caller."""
    require_entity(who, entity)
    await request.app.state.column_choices.forget(who.user, entity, project)
    return Response(status_code=204)


_COLUMNS = """
SELECT DISTINCT field, name FROM run_fields
WHERE entity = {e:String} AND project = {p:String} AND field IN ('config', 'summary')
ORDER BY field, name LIMIT 2000
"""

_HISTORY_KEYS = """
SELECT DISTINCT key FROM history
WHERE entity = {e:String} AND project = {p:String} ORDER BY key LIMIT 2000
"""


# ---- charts -----------------------------------------------------------------------


@router.get("/series/{entity}/{project}")
def series(
    request: Request,
    who: Caller,
    entity: str,
    project: str,
    run: Many = None,
    key: Many = None,
    x_axis: str = "_step",
    buckets: int = 600,
    lo: float | None = None,
    hi: float | None = None,
) -> dict[str, Any]:
    """Bucketed lines with min/max bands for every run and key asked for."""
    require_entity(who, entity)
    asked = SeriesRequest(entity, project, list(dict.fromkeys(run or [])),
                          list(dict.fromkeys(key or [])), x_axis, buckets, lo, hi)
    try:
        return read_series(_storage(request), asked)
    except SeriesError as exc:
        raise HTTPException(422, str(exc)) from exc


# ---- saved dashboards -------------------------------------------------------------


def _dashboards(request: Request) -> Dashboards:
    return request.app.state.dashboards


@router.get("/views/{entity}/{project}")
async def list_views(request: Request, who: Caller, entity: str, project: str) -> dict:
    require_entity(who, entity)
    return {"dashboards": await _dashboards(request).list(entity, project)}


@router.get("/views/{entity}/{project}/{slug}")
async def get_view(
    request: Request, who: Caller, entity: str, project: str, slug: str
) -> dict[str, Any]:
    require_entity(who, entity)
    found = await _dashboards(request).get(entity, project, slug)
    if found is None:
        raise HTTPException(404, f"no dashboard {slug!r} in {entity}/{project}")
    return found


@router.put("/views/{entity}/{project}/{slug}")
async def save_view(
    request: Request, who: Caller, entity: str, project: str, slug: str,
    body: SavedDashboard,
) -> dict[str, Any]:
    require_entity(who, entity)
    try:
        return await _dashboards(request).save(
            entity, project, slug, body.model_dump(), who.user
        )
    except ViewError as exc:
        raise HTTPException(422, str(exc)) from exc


@router.delete("/views/{entity}/{project}/{slug}", status_code=204)
async def delete_view(
    request: Request, who: Caller, entity: str, project: str, slug: str
) -> Response:
    require_entity(who, entity)
    await _dashboards(request).delete(entity, project, slug)
    return Response(status_code=204)


# ---- live -------------------------------------------------------------------------


@router.get("/live")
def live(
    request: Request, who: Caller, entity: str, project: str = "", run: str = ""
) -> StreamingResponse:
    """Server-sent events: `applied` each time the writer stored rows of a run."""
    require_entity(who, entity)
    hub: LiveHub = request.app.state.live
    return StreamingResponse(
        hub.events(Watch(entity, project, run)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


router.include_router(dashboard_proxy.router)
router.include_router(dashboard_media.router)


def add_page_routes(app: FastAPI) -> None:
    """Serve the page at ``/<entity>/<project>[/...]`` too, as notebooks link it.

    Added after every other route and mount, so these paths never shadow the
    API, ``/static`` or the health routes; the page turns the path into its
    ``#/`` route.
    """

    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    for path in ("/{entity}/{project}", "/{entity}/{project}/{rest:path}"):
        app.router.add_api_route(path, index, methods=["GET"], include_in_schema=False,
                                 route_class_override=PageRoute)
