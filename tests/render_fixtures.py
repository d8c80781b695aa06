"""Feed views to render in tests: a realistic three-item topic feed and an empty one.

Built by hand (no storage), so a renderer test depends on nothing but the view.
"""

from __future__ import annotations

from datetime import UTC, datetime

from feeds.models import Enclosure
from feeds.render.view import Category, FeedItem, FeedView, SourceRef

BASE_URL = "https://feeds.example.org"
TOPIC_SCHEME = f"{BASE_URL}/topics/"
MESH_SCHEME = "https://id.nlm.nih.gov/mesh/"
# The exact URL being served: a query with "," and "&", which XML must escape.
SELF_URL = f"{BASE_URL}/feed?topics=lupus,car-t&match=all&q=remission"
HTML_URL = f"{BASE_URL}/?topics=lupus,car-t&match=all&q=remission"
TRICKY_TITLE = 'Lupus <b>&"\' CAR-T: "remission" & what\'s <i>next'

LUPUS_WIRE = SourceRef(
    id="lupus-wire",
    name="Lupus Research Wire",
    feed_url="https://lupus.example.com/feed.xml?format=rss&lang=en",
    site_url="https://lupus.example.com/",
    updated=datetime(2024, 5, 2, 8, 0, 0, tzinfo=UTC),
)
HEALTH_NOTES = SourceRef(
    id="health-notes",
    name="Health Notes & Co",
    feed_url="https://notes.example.net/atom.xml",
    site_url=None,
    updated=datetime(2024, 5, 2, 7, 30, 0, tzinfo=UTC),
)

LUPUS = Category(term="lupus", label="Lupus", scheme=TOPIC_SCHEME)
CAR_T = Category(term="car-t", label="CAR-T cell therapy", scheme=TOPIC_SCHEME)
MESH_SLE = Category(term="D008180", label="Lupus Erythematosus, Systemic", scheme=MESH_SCHEME)
MESH_CAR = Category(term="D059467", label="Receptors, Chimeric Antigen", scheme=MESH_SCHEME)

FULL_ITEM = FeedItem(
    id="tag:feeds.example.org,2024:article/3f2a9c",
    url="https://lupus.example.com/news/car-t-remission?id=42&ref=feed",
    title="CAR-T therapy keeps lupus in remission for two years",
    summary="Five patients with refractory lupus stayed drug-free after one CAR-T infusion.",
    content_html=(
        "<p>Five patients with <em>refractory</em> lupus stayed drug-free.</p>\n"
        '<p>See <a href="https://doi.org/10.1056/nejmoa2308917">the trial</a>.</p>'
    ),
    published=datetime(2024, 5, 1, 14, 30, 5, tzinfo=UTC),
    updated=datetime(2024, 5, 2, 6, 0, 0, tzinfo=UTC),
    authors=("Jane Doe", "Ravi Kumar"),
    categories=(LUPUS, CAR_T, MESH_SLE, MESH_CAR),
    dois=("10.1056/nejmoa2308917", "10.1016/s0140-6736(23)01234-5"),
    enclosures=(
        Enclosure(
            url="https://lupus.example.com/audio/ep42.mp3", type="audio/mpeg", length=1234567
        ),
        Enclosure(url="https://lupus.example.com/slides/ep42.pdf", type=None, length=None),
    ),
    source=LUPUS_WIRE,
)
BARE_ITEM = FeedItem(
    id="tag:feeds.example.org,2024:article/77b0e1",
    url="https://notes.example.net/2024/04/sun-protection",
    title="Sun protection tips for people with lupus",
    summary="Photosensitivity & lupus: dermatologists share what helps (SPF ≥ 50).",
    content_html="",
    published=datetime(2024, 4, 30, 23, 59, 59, tzinfo=UTC),
    updated=datetime(2024, 4, 30, 23, 59, 59, tzinfo=UTC),
    authors=(),
    categories=(LUPUS,),
    dois=(),
    enclosures=(),
    source=HEALTH_NOTES,
)
TRICKY_ITEM = FeedItem(
    id="tag:feeds.example.org,2024:article/c0ffee",
    url="https://notes.example.net/2024/04/tricky?a=1&b=2",
    title=TRICKY_TITLE,
    summary='Plain text that mentions <br> tags & "quotes" but has no markup.',
    content_html="<p>Body with &amp; and &lt;b&gt; as text.</p>",
    published=datetime(2024, 4, 29, 1, 2, 3, tzinfo=UTC),
    updated=datetime(2024, 4, 29, 1, 2, 3, tzinfo=UTC),
    authors=("Zoë O'Brien",),
    categories=(CAR_T,),
    dois=("10.1200/jco.2024.42.16",),
    enclosures=(),
    source=HEALTH_NOTES,
)


def sample_view() -> FeedView:
    """A topic feed of three items, newest first, with every field the renderers write."""
    return FeedView(
        id="tag:feeds.example.org,2024:feed/topics/car-t,lupus/all/remission",
        title="Lupus & CAR-T — Health News Feeds",
        subtitle="Health news about lupus and CAR-T cell therapy, matching “remission”.",
        self_url=SELF_URL,
        html_url=HTML_URL,
        updated=FULL_ITEM.updated,
        items=(FULL_ITEM, BARE_ITEM, TRICKY_ITEM),
        generator="feeds 0.1.0",
    )


def empty_view() -> FeedView:
    """A feed with no items: still a valid document in every format."""
    return FeedView(
        id="tag:feeds.example.org,2024:feed/topics/rare-disease",
        title="Rare disease — Health News Feeds",
        subtitle="Health news about rare diseases.",
        self_url=f"{BASE_URL}/topics/rare-disease/feed.atom",
        html_url=f"{BASE_URL}/topics/rare-disease/",
        updated=datetime(2024, 5, 3, 12, 0, 0, tzinfo=UTC),
        items=(),
    )
