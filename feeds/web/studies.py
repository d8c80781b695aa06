"""``/studies/{id}`` (HTML) and ``/studies/{id}.rss|.atom|.json``: every article, from every
source, that cites one study (a paper, a preprint or a trial registration).

The id may be written any way ``feeds.identifiers.parse_study`` reads (``doi:10.1038/…``,
``10.1038/…``, ``PMID:36109639``, ``NCT01234567``, …); DOIs contain slashes, so the route
takes the rest of the path. A trailing ``.rss``/``.atom``/``.json`` is a feed format when
what precedes it is an id; otherwise the whole path is the id of the HTML page. A path that
names no id is a 400 with the reason; a known format missing is a 404. A study nobody cites
yet is an empty feed, not a 404: subscribing to a trial before the news arrives is the point.
Served through the render cache like every feed.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from feeds.identifiers import parse_study
from feeds.models import ArticleQuery, StudyId
from feeds.render.registry import RENDERERS, render
from feeds.web.cache import CachedBody, Versions, make_entry
from feeds.web.params import FEED_PARAMS, BadRequest, Known, parse_query
from feeds.web.respond import cached, self_url
from feeds.web.views import feed_view

if TYPE_CHECKING:
    from feeds.web.app import AppState

HTML = "text/html; charset=utf-8"
STUDY_FEED_PARAMS = FEED_PARAMS - {"study"}  # the path names the study


def split_study_path(path: str) -> tuple[StudyId, str | None]:
    """The study ``/studies/{path}`` names and its feed format (None: the HTML page)."""
    stem, dot, suffix = path.rpartition(".")
    if dot and suffix in RENDERERS and (study := parse_study(stem)) is not None:
        return study, suffix
    if (study := parse_study(path)) is not None:
        return study, None
    if dot and suffix.isalpha() and parse_study(stem) is not None:
        raise HTTPException(404, f"unknown feed format {suffix!r}; use .rss, .atom or .json")
    shown = path if len(path) <= 60 else path[:60] + "…"
    raise BadRequest(
        f"not a study identifier ({shown!r}); use a DOI (10.1038/…), PMID:…, PMC…, NCT…, "
        "an EU CT or EudraCT number, ISRCTN… or arXiv:…"
    )


async def study(request: Request) -> Response:
    found, fmt = split_study_path(request.path_params["study"])
    if fmt is None:
        return await _page(request, found)

    def build(state: AppState, version: Versions) -> CachedBody:
        site = state.site()
        query = parse_query(
            list(request.query_params.multi_items()),
            Known(site.topics, site.sources),
            allowed=STUDY_FEED_PARAMS,
            default_limit=state.settings.web.page_size,
        )
        query = replace(query, studies=(found.key,))
        articles = state.articles(query, version)
        view = feed_view(
            site,
            query,
            articles,
            self_url=self_url(request, state),
            html_url=f"{site.base_url}/studies/{found.quoted_key}",
            # One feed id per study and filter, whichever way the id was spelled.
            feed_key=f"/studies/{found.key}?{request.url.query}",
            now=datetime.now(UTC),
        )
        rendered = render(view, fmt)
        return make_entry(rendered.body, rendered.media_type, view.updated, version)

    return await cached(request, build)


async def _page(request: Request, found: StudyId) -> Response:
    # Like the topic pages, the page takes no parameters and ignores any (a shared link's
    # tracking parameters must not break it); its feeds take the filters.
    def build(state: AppState, version: Versions) -> CachedBody:
        site = state.site()
        articles = state.storage.query_articles(
            ArticleQuery(studies=(found.key,), limit=state.settings.web.page_size)
        )
        body = state.templates.get_template("study.html").render(
            site=site, base_url=site.base_url, study=found, articles=articles
        )
        return make_entry(body.encode(), HTML, datetime.now(UTC), version)

    return await cached(request, build)
