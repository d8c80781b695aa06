"""The update pipeline end to end: loopback HTTP and local files into SQLite."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest

from feeds.config import Settings
from feeds.errors import ErrorKind
from feeds.models import ArticleQuery, SourceStatus, UpdateSummary
from feeds.storage import Storage
from feeds.update import update
from tests.conftest import MakeSettings
from tests.httpserver import DATA, FeedServer


def run(settings: Settings, storage: Storage, **options: object) -> UpdateSummary:
    return asyncio.run(update(settings, storage, **options))  # type: ignore[arg-type]


def config(*sources: tuple[str, str], max_bytes: int = 10_000_000) -> str:
    lines = [f"fetch: {{timeout: 5, max_bytes: {max_bytes}}}", "sources:"]
    # allow_private: the loopback test server is not a public address.
    lines += [
        f"  - {{id: {sid}, name: {sid}, url: '{url}', allow_private: true}}" for sid, url in sources
    ]
    return "\n".join(lines) + "\n"


def test_update_twice_stores_nothing_twice(
    server: FeedServer, storage: Storage, make_settings: MakeSettings
) -> None:
    settings = make_settings(config(("rss", server.url("/feeds/rss20.xml"))))
    first = run(settings, storage).to_json()
    second = run(settings, storage, force=True).to_json()
    assert (first["new"], second["new"], second["updated"]) == (3, 0, 0)
    assert storage.count_articles() == 3


def test_update_without_validators_stores_nothing_twice(
    server: FeedServer, storage: Storage, make_settings: MakeSettings
) -> None:
    # /no-type/ sends no ETag or Last-Modified, so the second fetch is a full 200; the
    # body is the same bytes, so it is not even parsed again.
    settings = make_settings(config(("atom", server.url("/no-type/atom10.xml"))))
    run(settings, storage)
    (report,) = run(settings, storage, force=True).sources
    assert report.status is SourceStatus.NOT_MODIFIED
    assert (report.counts.new, report.counts.updated) == (0, 0)
    assert storage.count_articles() == 3


def test_a_changed_body_without_validators_is_parsed_again(
    server: FeedServer, storage: Storage, make_settings: MakeSettings
) -> None:
    settings = make_settings(
        config(("feed", server.put("feed.xml", (DATA / "rss20.xml").read_bytes())))
    )
    run(settings, storage)
    server.put("feed.xml", (DATA / "atom10.xml").read_bytes())
    (report,) = run(settings, storage, force=True).sources
    assert (report.status, report.counts.new) == (SourceStatus.OK, 3)


def test_304_stores_nothing_and_the_validators_were_sent(
    server: FeedServer, storage: Storage, make_settings: MakeSettings
) -> None:
    settings = make_settings(config(("rss", server.url("/feeds/rss20.xml"))))
    run(settings, storage)
    (health,) = storage.source_health()
    summary = run(settings, storage, force=True)
    (report,) = summary.sources
    assert report.status is SourceStatus.NOT_MODIFIED
    assert summary.to_json()["new"] == summary.to_json()["unchanged"] == 0
    request = server.requests_to("/feeds/rss20.xml")[-1]
    assert request.headers["if-none-match"] == health.etag
    assert request.headers["if-modified-since"] == health.last_modified
    assert storage.source_health()[0].status is SourceStatus.NOT_MODIFIED


def test_one_failing_source_does_not_stop_the_others(
    server: FeedServer, storage: Storage, make_settings: MakeSettings
) -> None:
    settings = make_settings(
        config(
            ("broken", server.url("/status/500")),
            ("html", server.url("/feeds/not-a-feed.html")),
            ("rss", server.url("/feeds/rss20.xml")),
            ("atom", server.url("/feeds/atom10.xml")),
        )
    )
    result = run(settings, storage).to_json()
    assert (result["new"], result["failed"]) == (6, 2)
    health = {h.source_id: h for h in storage.source_health()}
    assert health["broken"].error_kind is ErrorKind.HTTP_STATUS
    assert health["html"].error_kind is ErrorKind.NOT_A_FEED
    assert health["rss"].status is SourceStatus.OK


def test_failure_is_recorded_and_then_reset_by_a_success(
    server: FeedServer, storage: Storage, make_settings: MakeSettings
) -> None:
    settings = make_settings(config(("flaky", server.url("/custom/flaky.xml"))))
    server.put("flaky.xml", b"")  # an empty body: a failure
    run(settings, storage)
    run(settings, storage, force=True)
    (failing,) = storage.source_health()
    assert failing.status is SourceStatus.FAILING
    assert (failing.error_kind, failing.error_count) == (ErrorKind.EMPTY, 2)
    assert failing.failing_since is not None
    assert failing.failing_since < failing.last_fetch_at  # type: ignore[operator]
    assert failing.next_check_at is not None

    server.put("flaky.xml", (DATA / "rss20.xml").read_bytes())
    run(settings, storage, force=True)
    (healthy,) = storage.source_health()
    assert healthy.status is SourceStatus.OK
    assert (healthy.error_kind, healthy.error_message, healthy.error_count) == (None, None, 0)
    assert healthy.failing_since is None
    assert healthy.last_success_at == healthy.last_fetch_at


def test_an_oversized_body_is_refused_as_too_large(
    server: FeedServer, storage: Storage, make_settings: MakeSettings
) -> None:
    settings = make_settings(config(("big", server.url("/big/2000000")), max_bytes=1_000_000))
    (report,) = run(settings, storage).sources
    assert report.error_kind is ErrorKind.TOO_LARGE
    assert storage.count_articles() == 0


def test_an_edited_article_is_updated_in_place_keeping_its_first_seen_time(
    server: FeedServer, storage: Storage, make_settings: MakeSettings
) -> None:
    original = (DATA / "rss20.xml").read_bytes()
    settings = make_settings(config(("rss", server.put("edit.xml", original))))
    run(settings, storage)
    before = {a.id: a for a in storage.recent_articles()}
    title = before[next(iter(before))].title
    server.put("edit.xml", original.replace(title.encode(), b"A corrected headline", 1))
    result = run(settings, storage, force=True).to_json()
    assert (result["new"], result["updated"], result["unchanged"]) == (0, 1, 2)
    after = {a.id: a for a in storage.recent_articles()}
    assert after.keys() == before.keys()
    (edited,) = [a for a in after.values() if a.title == "A corrected headline"]
    assert edited.first_seen == before[edited.id].first_seen


def test_only_due_sources_are_fetched_unless_forced_or_named(
    server: FeedServer, storage: Storage, make_settings: MakeSettings
) -> None:
    settings = make_settings(
        config(("rss", server.url("/feeds/rss20.xml")), ("atom", server.url("/feeds/atom10.xml")))
    )
    assert len(run(settings, storage).sources) == 2  # first run: everything is due
    assert run(settings, storage).sources == ()  # nothing is due again yet
    assert [r.source_id for r in run(settings, storage, only=["atom"]).sources] == ["atom"]
    assert len(run(settings, storage, force=True).sources) == 2


def test_disabled_sources_are_not_fetched(
    server: FeedServer, storage: Storage, make_settings: MakeSettings
) -> None:
    text = config(("rss", server.url("/feeds/rss20.xml"))).replace("url:", "enabled: false, url:")
    settings = make_settings(text)
    assert run(settings, storage, force=True).sources == ()
    assert storage.source_health()[0].shown_status is SourceStatus.DISABLED


def test_local_file_sources_are_read_from_the_config_folder(
    tmp_path: Path, storage: Storage, make_settings: MakeSettings
) -> None:
    (tmp_path / "feed.rdf").write_bytes((DATA / "rss10.rdf").read_bytes())
    settings = make_settings(config(("local", "feed.rdf")))
    result = run(settings, storage).to_json()
    assert result["new"] == 3
    assert run(settings, storage, force=True).sources[0].status is SourceStatus.NOT_MODIFIED


def test_retry_after_sets_the_next_check(
    server: FeedServer, storage: Storage, make_settings: MakeSettings
) -> None:
    settings = make_settings(
        config(("busy", server.url("/retry/429/7200")), ("down", server.url("/retry/503/date")))
    )
    run(settings, storage)
    for state in storage.source_health():
        assert state.error_kind is ErrorKind.HTTP_STATUS
        assert state.next_check_at is not None
        assert state.last_fetch_at is not None
        wait = (state.next_check_at - state.last_fetch_at).total_seconds()
        assert 7190 <= wait <= 7210, state.source_id


def test_cache_control_max_age_sets_the_next_check(
    server: FeedServer, storage: Storage, make_settings: MakeSettings
) -> None:
    settings = make_settings(config(("cached", server.url("/cached/rss20.xml"))))
    run(settings, storage)
    (state,) = storage.source_health()
    assert state.next_check_at is not None
    assert state.last_fetch_at is not None
    assert state.next_check_at - state.last_fetch_at == timedelta(hours=2)  # max-age beats Expires


@pytest.mark.parametrize(("code", "moves"), [(301, True), (308, True), (302, False), (307, False)])
def test_only_permanent_redirects_move_the_stored_url(
    server: FeedServer, storage: Storage, make_settings: MakeSettings, code: int, moves: bool
) -> None:
    start = server.url(f"/redirect/{code}/rss20.xml")
    settings = make_settings(config(("moved", start)))
    run(settings, storage)
    (state,) = storage.source_health()
    assert state.url == (server.url("/feeds/rss20.xml") if moves else start)
    run(settings, storage, force=True)  # and the sync from the config does not undo it
    assert storage.source_health()[0].url == state.url


def test_410_gone_stops_fetching_until_named(
    server: FeedServer, storage: Storage, make_settings: MakeSettings
) -> None:
    settings = make_settings(config(("gone", server.url("/status/410"))))
    (report,) = run(settings, storage).sources
    assert report.status is SourceStatus.GONE
    assert storage.source_health()[0].shown_status is SourceStatus.GONE
    assert run(settings, storage, force=True).sources == ()
    assert len(run(settings, storage, only=["gone"]).sources) == 1


def test_a_redirect_to_a_host_name_that_is_not_idna_fails_only_its_source(
    server: FeedServer, storage: Storage, make_settings: MakeSettings
) -> None:
    # "xn--a" is not valid IDNA: httpx raised idna's error (a UnicodeError, not an
    # HTTPError) while building the redirected request, and it ended the whole run.
    bad = server.url("/goto/" + quote("http://xn--a.example/feed", safe=""))
    settings = make_settings(config(("bad", bad), ("rss", server.url("/feeds/rss20.xml"))))
    result = run(settings, storage).to_json()
    assert (result["new"], result["failed"]) == (3, 1)
    health = {h.source_id: h for h in storage.source_health()}
    assert health["bad"].error_kind is ErrorKind.CONNECT
    assert health["bad"].error_message is not None
    assert "unusable URL" in health["bad"].error_message
    assert health["rss"].status is SourceStatus.OK


def test_validators_that_are_not_ascii_are_not_sent_back_and_do_not_stop_the_run(
    server: FeedServer, storage: Storage, make_settings: MakeSettings
) -> None:
    # httpx sends request headers as ASCII: an ETag of "été" was stored, and from then on
    # every run ended with a UnicodeEncodeError before fetching anything.
    settings = make_settings(
        config(
            ("odd", server.url("/odd-validators/rss20.xml")),
            ("atom", server.url("/feeds/atom10.xml")),
        )
    )
    assert run(settings, storage).to_json()["new"] == 6
    again = run(settings, storage, force=True).to_json()
    assert again["failed"] == 0
    last = server.requests_to("/odd-validators/rss20.xml")[-1]
    assert "if-none-match" not in last.headers
    assert "if-modified-since" not in last.headers
    health = {h.source_id: h for h in storage.source_health()}
    # The same body again: "not modified" by its hash, as an unconditional GET finds it.
    assert health["odd"].status is SourceStatus.NOT_MODIFIED
    assert health["odd"].error_kind is None


NUL_DOI_FEED = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>T</title><link>https://t.example/</link><description>d</description>
<item><title>Trial results</title><link>https://t.example/a</link><guid>https://t.example/a</guid>
<pubDate>Tue, 02 Jan 2024 03:04:05 +0000</pubDate>
<description>&lt;a href="https://doi.org/10.1038/abc%00def"&gt;the paper&lt;/a&gt;,
doi: 10.1038/xyz%01abc</description></item>
</channel></rss>
"""


def test_a_doi_with_an_encoded_control_character_is_cut_there_and_stored_on_every_backend(
    server: FeedServer, backend_storage: Storage, make_settings: MakeSettings
) -> None:
    # "%00" in a DOI link decoded to NUL, which PostgreSQL refuses in text: the update run
    # ended with a storage error, and again on every run (the source never got recorded).
    url = server.put("nul-doi.xml", NUL_DOI_FEED)
    settings = make_settings(config(("nul", url), ("rss", server.url("/feeds/rss20.xml"))))
    result = run(settings, backend_storage).to_json()
    assert (result["new"], result["failed"]) == (4, 0)
    (article,) = [a for a in backend_storage.query_articles(ArticleQuery()) if a.source_id == "nul"]
    assert article.dois == ("10.1038/abc", "10.1038/xyz")
