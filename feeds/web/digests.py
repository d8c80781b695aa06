"""Digests for newsletters: one item per day or week, and an e-mail-ready HTML page.

``?digest=daily|weekly`` on any feed groups its articles by UTC day or ISO week (Monday
first) into one item per period, for newsletter tools that send one message per item. A
period's item keeps its id as the period fills up; its ``updated`` time moves instead, so a
reader sees each period once. ``/digests/{topic}.html`` renders the same grouping as HTML
with inline styles only (mail clients drop <style> blocks).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby

from feeds.models import Article
from feeds.render.view import FeedItem, FeedView, SourceRef
from feeds.web.views import Site

PERIODS = ("daily", "weekly")
DIGEST_ARTICLES = 500  # articles read to build a digest feed


def period_start(moment: datetime, period: str) -> date:
    """The first day of the period ``moment`` falls in (UTC)."""
    day = moment.astimezone(UTC).date()
    return day - timedelta(days=day.weekday()) if period == "weekly" else day


def group_by_period(articles: Sequence[Article], period: str) -> list[tuple[date, list[Article]]]:
    """Articles (newest first) grouped by period, newest period first."""
    return [
        (start, list(group))
        for start, group in groupby(articles, key=lambda a: period_start(a.published, period))
    ]


def digest_feed(
    view: FeedView,
    site: Site,
    articles: Sequence[Article],
    *,
    period: str,
    heading: str,
    limit: int,
    key: str,
) -> FeedView:
    """``view`` (built from ``articles``) with one digest item per period instead.

    ``key`` names the feed (path and filters without ``digest``/``limit``) so that a period's
    item id is the same however the feed is asked for.
    """
    by_id = {item.id: item for item in view.items}
    items = []
    for start, group in group_by_period(articles, period)[:limit]:
        entries = [by_id[site.tag(f"article:{a.id}")] for a in group]
        newest = max(entries, key=lambda i: i.updated)
        count = f"{len(entries)} article{'s' if len(entries) != 1 else ''}"
        topics = dict.fromkeys(
            c for e in entries for c in e.categories if c.scheme.endswith("/topics/")
        )
        items.append(
            FeedItem(
                id=site.tag(f"digest:{period}:{key}:{start.isoformat()}"),
                url=None,
                title=f"{heading}: {count}, {_period_label(start, period)}",
                summary="; ".join(e.title for e in entries)[:500],
                content_html=_digest_html(entries),
                published=datetime.combine(start, time(), UTC),
                updated=newest.updated,
                authors=(),
                categories=tuple(topics),
                dois=(),
                enclosures=(),
                source=SourceRef(
                    id="digest",
                    name=site.title,
                    feed_url=view.self_url,
                    site_url=site.base_url,
                    updated=newest.updated,
                ),
            )
        )
    return replace(view, items=tuple(items), title=f"{view.title} ({period} digest)")


def _period_label(start: date, period: str) -> str:
    if period == "weekly":
        return f"week of {start.isoformat()}"
    return start.isoformat()


def _digest_html(entries: Sequence[FeedItem]) -> str:
    rows = []
    for entry in entries:
        title = html.escape(entry.title)
        link = f'<a href="{html.escape(entry.url)}">{title}</a>' if entry.url else title
        rows.append(
            f"<li>{link} <small>({html.escape(entry.source.name)})</small>"
            f"<br>{html.escape(entry.summary)}</li>"
        )
    return "<ul>" + "".join(rows) + "</ul>"
