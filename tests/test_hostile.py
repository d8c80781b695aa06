"""Hostile feeds, end to end: each case of tests/data/hostile/manifest.json is served by the
loopback test server, fetched by the real ``feeds update`` command beside a well-behaved
source, and then the stored articles and every output (feeds in three formats, digests,
HTML pages, the API, the sources pages and feeds, OPML) are checked: well-formed and valid,
free of active content, of characters XML forbids and of anything read from the local disk
or the network (a canary file and a canary URL whose hit count must stay 0).

The payloads in the corpus carry the marker ``pwn3d`` inside the active part only (script
bodies, handler attributes, dangerous URLs), so "the marker appears nowhere" means "no part
of any payload survived, escaped or not".
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import feedparser
import pytest
from click.testing import CliRunner
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4
from starlette.testclient import TestClient

from feeds.cli import cli
from feeds.config import load_settings
from feeds.models import Article, ArticleQuery
from feeds.normalize import AUTHORS_MAX, DATE_FLOOR, ENCLOSURES_MAX, NAME_MAX, TITLE_MAX
from feeds.storage import Storage
from feeds.web.app import create_app
from tests.httpserver import CANARY, DATA, FeedServer
from tests.test_render import SCHEMAS

HOSTILE = DATA / "hostile"
MANIFEST: list[dict[str, Any]] = json.loads((HOSTILE / "manifest.json").read_text("utf-8"))["cases"]
MARKERS = ("pwn3d", CANARY.decode()[:13], "root:x:0:0")
NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
TAG_LIKE = re.compile(r"<[A-Za-z!/?]")
DANGEROUS_SCHEME = re.compile(r"^[\s\x00-\x20]*(javascript|vbscript|data|file)\s*:", re.I)
ACTIVE_TAGS = frozenset(
    {"script", "iframe", "frame", "object", "embed", "applet", "style", "svg", "math", "meta",
     "base", "form", "input", "button", "link", "textarea", "select"}
)  # fmt: skip
URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "data", "srcdoc", "xlink:href"})
FEEDS = ("/feeds/all", "/feeds/lupus", "/sources/failing")
DIGESTS = ("/feeds/all.rss?digest=daily", "/feeds/all.atom?digest=weekly")
PAGES = ("/", "/topics/lupus", "/sources", "/digests/all.html?since=1970-01-02")


@pytest.fixture(scope="module")
def json_feed_schema() -> Draft4Validator:
    v11_path, v10_path = SCHEMAS / "jsonfeed-1.1.schema.json", SCHEMAS / "jsonfeed-1.0.schema.json"
    if not (v11_path.is_file() and v10_path.is_file()):
        pytest.skip(f"JSON Feed schemas not found in {SCHEMAS}")
    v11, v10 = json.loads(v11_path.read_text("utf-8")), json.loads(v10_path.read_text("utf-8"))
    registry: Registry[Any] = Registry().with_resource(
        v10["id"], Resource.from_contents(v10, default_specification=DRAFT4)
    )
    return Draft4Validator(v11, registry=registry, format_checker=Draft4Validator.FORMAT_CHECKER)


def write_config(folder: Path, hostile_url: str, good_url: str) -> Path:
    # allow_private: the loopback test server stands in for a public publisher here; the
    # private-address guard has its own tests in test_netguard.py.
    path = folder / "config.yaml"
    path.write_text(
        "site: {title: Hostile Test, base_url: 'http://feeds.test'}\n"
        "database: sqlite:///feeds.db\n"
        "fetch: {timeout: 5, deadline: 4}\n"
        "sources:\n"
        f"  - {{id: good, name: Good, url: '{good_url}', allow_private: true}}\n"
        f"  - {{id: hostile, name: Hostile, url: '{hostile_url}', allow_private: true}}\n"
        "topics:\n"
        "  - {slug: lupus, title: Lupus, terms: [lupus]}\n",
        encoding="utf-8",
    )
    return path


def serve_case(case: dict[str, Any], server: FeedServer, canary_file: Path) -> str:
    if "path" in case:
        return server.url(case["path"])
    body = (HOSTILE / case["file"]).read_bytes()
    body = body.replace(b"@CANARY_FILE@", str(canary_file).encode())
    body = body.replace(b"@CANARY_URL@", server.url("/canary").encode())
    return server.put(case["file"], body)


@pytest.fixture
def canary_file(tmp_path: Path) -> Path:
    path = tmp_path / "canary.txt"
    path.write_bytes(CANARY)
    return path


@pytest.mark.parametrize("case", MANIFEST, ids=[c["case"] for c in MANIFEST])
def test_a_hostile_feed_leaves_every_output_well_formed_and_inert(
    case: dict[str, Any],
    server: FeedServer,
    tmp_path: Path,
    canary_file: Path,
    json_feed_schema: Draft4Validator,
) -> None:
    url = serve_case(case, server, canary_file)
    config = write_config(tmp_path, url, server.url("/feeds/rss20.xml"))
    result = CliRunner().invoke(cli, ["update", "--config", str(config), "--json"])
    assert result.exit_code == 0, result.output
    reports = {r["id"]: r for r in json.loads(result.output)["sources"]}
    assert reports["good"]["status"] == "ok"  # one hostile source never spoils a run
    outcome = case["outcome"]
    assert reports["hostile"]["status"] == ("ok" if outcome == "ok" else "failing"), reports
    assert reports["hostile"]["error_kind"] == (None if outcome == "ok" else outcome)
    assert not server.requests_to_prefix("/canary")

    settings = load_settings(config)
    storage = Storage.open(settings.database)
    try:
        stored = storage.query_articles(ArticleQuery(sources=("hostile",), limit=5000))
        assert len(stored) == case["articles"]
        titles = {a.title for a in stored}
        assert set(case.get("titles", ())) <= titles, titles
        assert not set(case.get("absent_titles", ())) & titles
        for article in stored:
            check_article(article)
        client = TestClient(create_app(settings, storage))
        served = dict(outputs(client))
        for path, body in served.items():
            check_output(path, body, json_feed_schema)
        # The checks saw the hostile articles, not only the good source's.
        api = json.loads(served["/api/articles?limit=200"])["articles"]
        assert any(a["source"]["id"] == "hostile" for a in api) == (case["articles"] > 0)
    finally:
        storage.close()


def outputs(client: TestClient) -> Iterator[tuple[str, bytes]]:
    paths = [f"{feed}.{fmt}" for feed in FEEDS for fmt in ("rss", "atom", "json")]
    paths += [*DIGESTS, "/feeds/all.json?digest=daily", "/feeds/all.rss?limit=200"]
    paths += [*PAGES, "/api/articles?limit=200", "/sources.json", "/opml"]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, (path, response.text[:500])
        yield path, response.content


# --- checks -------------------------------------------------------------------------------


def check_article(article: Article) -> None:
    text = repr(article)
    assert not any(marker in text for marker in MARKERS), text[:2000]
    strings = [article.entry_id, article.title, article.summary, article.content_html]
    strings += [*article.authors, *article.categories, *(e.url for e in article.enclosures)]
    assert not any(NOT_XML_CHAR.search(s) for s in strings), strings
    assert 0 < len(article.title) <= TITLE_MAX
    plain_text(article.title, *article.authors, *article.categories)
    assert len(article.authors) <= AUTHORS_MAX
    assert all(len(name) <= NAME_MAX for name in (*article.authors, *article.categories))
    assert len(article.enclosures) <= ENCLOSURES_MAX
    web_urls(article.url, *(e.url for e in article.enclosures))
    assert DATE_FLOOR <= article.published <= article.first_seen
    assert article.updated is None or DATE_FLOOR <= article.updated <= datetime.now(UTC)
    assert html_hazards(article.content_html) == []


def check_output(path: str, body: bytes, schema: Draft4Validator) -> None:
    text = body.decode("utf-8")  # strict: every output is valid UTF-8
    found = [marker for marker in MARKERS if marker in text]
    assert found == [], (path, found)
    assert not NOT_XML_CHAR.search(text), path
    kind = path.split("?")[0].rsplit(".", 1)[-1]
    if kind in ("rss", "atom") or path.startswith("/opml"):
        ET.fromstring(body)  # well-formed XML
    if kind in ("rss", "atom"):
        check_xml_feed(path, body)
    elif kind == "json" and path.startswith(("/feeds/", "/sources/")):
        feed = json.loads(body)
        assert [e.message for e in schema.iter_errors(feed)] == [], path
        for item in feed["items"]:
            plain_text(item["title"], *(a["name"] for a in item["authors"]))
            web_urls(item.get("url"), *(a["url"] for a in item.get("attachments", ())))
            assert html_hazards(item.get("content_html", "")) == [], path
    elif path.startswith("/api/"):
        for article in json.loads(body)["articles"]:
            plain_text(article["title"], *article["authors"])
            web_urls(article["url"])
            assert html_hazards(article["content_html"]) == [], path
    elif path.startswith("/sources.json"):
        json.loads(body)
    else:  # an HTML page: the templates' own markup is allowed, nothing else active
        assert html_hazards(text, page=True) == [], path


def check_xml_feed(path: str, body: bytes) -> None:
    parsed = feedparser.parse(body, sanitize_html=False)
    assert not parsed.bozo, (path, parsed.get("bozo_exception"))
    for entry in parsed.entries:
        plain_text(entry.get("title", ""), *(a.get("name", "") for a in entry.get("authors", ())))
        web_urls(entry.get("link"), *(link.get("href") for link in entry.get("links", ())))
        for detail in (entry.get("summary_detail"), *entry.get("content", ())):
            if detail and detail.get("type") in ("text/html", "application/xhtml+xml"):
                assert html_hazards(detail["value"]) == [], path


def plain_text(*values: str) -> None:
    """Titles and names are text: no markup, not even escaped markup."""
    for value in values:
        assert not TAG_LIKE.search(value), value[:300]


def web_urls(*urls: str | None) -> None:
    # tag: URIs are our own ids, which feedparser reports as the link of a linkless entry.
    for url in urls:
        assert url is None or url.startswith(("http://", "https://", "tag:")), url[:300]


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


# What the page templates themselves use: an inline script without src, a style block, meta
# charset/viewport, feed autodiscovery links, and the read-only subscribe inputs/buttons.
PAGE_TAGS = frozenset({"script", "style", "meta", "link", "input", "button"})


def html_hazards(fragment: str, *, page: bool = False) -> list[str]:
    """Active content in an HTML fragment (or a whole page of ours, with ``page``)."""
    markup = _Markup()
    markup.feed(fragment)
    markup.close()
    hazards = []
    for tag, attrs in markup.tags:
        if tag in ACTIVE_TAGS and not (page and tag in PAGE_TAGS):
            hazards.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                hazards.append(f"<{tag} {name}>")
            elif name == "style" and re.search(r"expression|url\(|@import", value or "", re.I):
                hazards.append(f"<{tag} style={value}>")
            # Browsers drop tabs and newlines anywhere in a URL (WHATWG URL "basic parser").
            elif name in URL_ATTRIBUTES and DANGEROUS_SCHEME.match(
                re.sub(r"[\t\n\r]", "", value or "")
            ):
                hazards.append(f"<{tag} {name}={value}>")
            elif name == "http-equiv":
                hazards.append(f"<{tag} http-equiv>")
        if page and tag == "script" and attrs:
            hazards.append("<script> with attributes")
    return hazards


def test_the_hazard_check_would_catch_what_it_looks_for() -> None:
    # The checks above pass only if nothing is found; be sure they can find something.
    samples = [
        '<a href=" jav&#x09;ascript:x">a</a>',
        "<p onclick=x>p</p>",
        "<svg/onload=x>",
        '<p style="width: expression(x)">p</p>',
        '<meta http-equiv="refresh" content="0">',
        '<img src="data:text/html,x">',
    ]
    assert all(html_hazards(sample) for sample in samples)
    assert html_hazards('<p><a href="https://example.org/" rel="noopener">ok</a></p>') == []


# --- memory -------------------------------------------------------------------------------

# Runs the real CLI in a child process and reports the child's peak resident memory.
PEAK_MEMORY = """
import atexit, resource, sys
from feeds.cli import main
atexit.register(lambda: print("peak-kib", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                              file=sys.stderr))
sys.argv = ["feeds", *sys.argv[1:]]
main()
"""
TRANSPORT_BOMBS = {
    "gzip-bomb": ("/bomb-stream/1073741824", "too_large"),
    "brotli-bomb": ("/br-bomb/1073741824", "too_large"),
    "declared-1gb": ("/declared/1000000000", "too_large"),
    "endless": ("/endless", "too_large"),
}


def peak_update(folder: Path, sources: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """``feeds update --json`` over ``sources`` in a child process: (peak KiB, summary)."""
    folder.mkdir()
    lines = ["database: sqlite:///feeds.db", "fetch: {timeout: 5, deadline: 20}", "sources:"]
    lines += [
        f"  - {{id: {sid}, name: {sid}, url: '{url}', allow_private: true}}"
        for sid, url in sources.items()
    ]
    (folder / "config.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDS_")}
    done = subprocess.run(
        [sys.executable, "-c", PEAK_MEMORY, "update", "--config", "config.yaml", "--json"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    peak = int(re.findall(r"peak-kib (\d+)", done.stderr)[-1])
    return peak, json.loads(done.stdout)


def test_transport_bombs_keep_the_update_within_max_bytes_of_memory(
    server: FeedServer, tmp_path: Path
) -> None:
    good = {"good": server.url("/feeds/rss20.xml")}
    baseline, _ = peak_update(tmp_path / "baseline", good)
    bombs = {sid: server.url(path) for sid, (path, _) in TRANSPORT_BOMBS.items()}
    peak, summary = peak_update(tmp_path / "bombs", good | bombs)
    kinds = {s["id"]: s["error_kind"] for s in summary["sources"]}
    assert kinds == {"good": None} | {sid: kind for sid, (_, kind) in TRANSPORT_BOMBS.items()}
    # Each bomb offers 1 GB; fetch.max_bytes (10 MB) caps what is held per fetch. Measured
    # against a run of the same command without them, on the same machine.
    grown_mib = (peak - baseline) / 1024
    print(f"peak memory: {baseline / 1024:.0f} MiB without the bombs, +{grown_mib:.0f} MiB with")
    assert grown_mib < 4 * 10 * 3  # four fetches of at most 10 MB, generous slack


def test_fetch_max_items_from_the_config_caps_what_one_fetch_stores(
    server: FeedServer, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "database: sqlite:///feeds.db\nfetch: {max_items: 7}\nsources:\n"
        f"  - {{id: flood, name: Flood, url: '{server.url('/flood/30')}', allow_private: true}}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["update", "--config", str(config), "--json"])
    assert json.loads(result.output)["new"] == 7
    storage = Storage.open(load_settings(config).database)
    try:
        titles = [a.title for a in storage.query_articles(ArticleQuery(limit=50))]
    finally:
        storage.close()
    assert titles == [f"Bulletin {i}" for i in range(29, 22, -1)]  # the newest, newest first


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("fetch: {max_items: 0}", "config.yaml:1: fetch.max_items: Input should be greater"),
        (
            "sources:\n  - {id: a, name: A, url: 'http://a.example/f', allow_private: maybe}",
            "config.yaml:2: sources[0].allow_private: Input should be a valid boolean",
        ),
    ],
)
def test_the_new_keys_are_checked_with_their_config_line(
    tmp_path: Path, line: str, problem: str
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(line + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", "--config", str(config)])
    assert result.exit_code == 2
    assert problem in result.output
