"""Load benchmark: 100 connections on a mix of routes against ``feeds serve`` while it updates.

Run from the repository root (needs ``wrk``: ``apt-get install wrk``)::

    python bench/load.py               # 20 s quiet baseline, then 60 s during the update
    python bench/load.py --seconds 10  # a shorter run (the baseline takes a third)
    python bench/load.py --quick       # 3 s + 5 s, 40 sources: a smoke check

What it runs, as separate processes on this machine:

- **a feed site**: this script with ``--feed-site``, an HTTP server on 127.0.0.1 with 200 RSS
  feeds (20 items of health news each, a third on one of the shipped topics; each item's
  title and sentences carry made-up words of their own, so items are separate stories). Every
  ``--period`` seconds each feed publishes one item and drops its oldest; ETag and
  If-None-Match work, so an unchanged feed is a 304.
- **feeds**: ``feeds serve`` (uvicorn, one worker, its updater process beside it) over a
  database filled once by ``feeds update`` from the shipped ``config.yaml`` topics, its four
  bundled sample sources and the 200 site feeds, every source checked each ``--period``
  seconds (``fetch.interval`` and ``min_interval``): the updater fetches, parses, tags and
  writes the whole time the load runs, and each write invalidates the render cache.
- **the load**: five ``wrk`` processes at once, one per route class, 100 keep-alive
  connections in all, ``Accept-Encoding: gzip`` as feed readers send it:

  ========== ==== ==========================================================================
  class      conn paths (round robin)
  ========== ==== ==========================================================================
  hot        30   five topic feeds (and ``all``) in RSS, Atom and JSON Feed
  filtered   15   feeds with ``topics``, ``match``, ``exclude``, ``q``, ``since``,
                  ``min_score``, ``limit``
  api        15   ``/api/articles`` with filters
  pages      15   ``/``, topic pages, ``/sources``
  304        25   ``/feeds/lupus.rss`` with ``If-None-Match``: the ETag of the last 200, as
                  a reader keeps it (so a 200 when the data changed since)
  ========== ==== ==========================================================================

The same load first runs for a third of ``--seconds`` against ``feeds serve --no-update``
(the **baseline**: no update running), then for ``--seconds`` against ``feeds serve`` with the
update running. It prints requests/s, errors (wrk's connect, read, write, timeout, and
statuses other than 2xx/3xx) and p50/p99/max latency per class and phase, the ratio of each
class's p99 during the update to its baseline p99, what the updater did during the load
(passes, fetches, new articles, from ``/metrics``), and the targets: **zero errors**, and
**p99 under 100 ms for the hot (cached) feeds during the update**, each PASS or MISS. It
exits 0 either way (a benchmark reports, it does not gate).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any
from xml.sax.saxutils import escape

from bench.report import machine, revision, verdict
from bench.serve import (
    CONFIG,
    REPO,
    fetch,
    fill_database,
    free_port,
    keep_known_priorities,
    versions,
)

MAX_HOT_P99_MS = 100.0
WARMUP = 2  # seconds of load before each phase, not counted
BASELINE_MIN = 5  # seconds: the baseline phase lasts a third of --seconds, at least this

HOT = tuple(
    f"/feeds/{slug}.{fmt}"
    for slug in ("lupus", "car-t", "diabetes", "covid-19", "all")
    for fmt in ("rss", "atom", "json")
)
FILTERED = (
    "/feeds/all.rss?topics=lupus,car-t",
    "/feeds/all.atom?topics=diabetes,obesity-glp1&match=all",
    "/feeds/all.json?q=vaccine",
    "/feeds/lupus.rss?since=2024-01-01",
    "/feeds/all.rss?exclude=covid-19&limit=20",
    "/feeds/all.atom?topics=stroke,cardiology&min_score=2",
)
API = (
    "/api/articles",
    "/api/articles?topics=lupus",
    "/api/articles?q=trial&limit=20",
    "/api/articles?topics=car-t,oncology&limit=100",
)
PAGES = ("/", "/topics/lupus", "/topics/diabetes", "/sources")
CONDITIONAL = ("/feeds/lupus.rss",)


@dataclass(frozen=True)
class RouteClass:
    key: str
    connections: int
    paths: tuple[str, ...]
    conditional: bool = False  # send If-None-Match with the last ETag seen


CLASSES = (
    RouteClass("hot", 30, HOT),
    RouteClass("filtered", 15, FILTERED),
    RouteClass("api", 15, API),
    RouteClass("pages", 15, PAGES),
    RouteClass("304", 25, CONDITIONAL, conditional=True),
)

WRK_SCRIPT = r"""
-- Written by bench/load.py. Arguments after "--": paths (requested in turn), and "etag" to
-- send If-None-Match with the ETag of the last 200, as a feed reader does (one path then).
local paths = {}
local conditional = false
local counter = 0
local etag = nil
not_modified = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local function remember(status, headers, body)
  if status == 304 then not_modified = not_modified + 1 end
  if status == 200 then etag = headers["etag"] or headers["ETag"] or etag end
end

function init(args)
  for _, arg in ipairs(args) do
    if arg == "etag" then conditional = true else table.insert(paths, arg) end
  end
  -- Only the conditional class pays for handing every response to Lua.
  if conditional then response = remember end
end

function request()
  counter = counter + 1
  local headers = {["Accept-Encoding"] = "gzip"}
  if conditional and etag then headers["If-None-Match"] = etag end
  return wrk.format("GET", paths[(counter % #paths) + 1], headers)
end

function done(summary, latency, requests)
  local e = summary.errors
  local nm = 0
  for _, thread in ipairs(threads) do nm = nm + (thread:get("not_modified") or 0) end
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50_us": %.0f, "p99_us": %.0f, ' ..
    '"max_us": %.0f, "connect": %d, "read": %d, "write": %d, "status": %d, ' ..
    '"timeout": %d, "not_modified": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.status, e.timeout, nm))
end
"""


# --- the feed site --------------------------------------------------------------------------

PHRASES = (
    "systemic lupus erythematosus",
    "CAR-T cell therapy",
    "type 2 diabetes",
    "COVID-19",
    "influenza vaccine",
    "Alzheimer's disease",
    "ischemic stroke",
    "HIV pre-exposure prophylaxis",
)
FILLER = (
    "hospital admissions rose in the winter months",
    "the trial enrolled adults across twelve centres",
    "researchers reported the findings at a meeting",
    "the agency published new guidance for clinicians",
    "costs of care varied widely between regions",
    "a cohort of patients was followed for five years",
)
ITEMS = 20
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


def words(rng: random.Random, count: int) -> str:
    """``count`` made-up words of three syllables (about 1,000,000 possible words)."""
    return " ".join(
        "".join(rng.choice("bdfgklmnprstvz") + rng.choice("aeiou") for _ in range(3))
        for _ in range(count)
    )


def item_xml(feed: int, number: int) -> str:
    """Item ``number`` of feed ``feed``: always the same text for the same pair."""
    rng = random.Random(feed * 1_000_003 + number)
    # Each item reports its own story: words of its own in the title and every sentence.
    # (Items made only of the shared FILLER sentences all fell into a handful of giant story
    # clusters, and every feed render then read thousands of articles: not what real news
    # looks like, where most stories have one article and few have more than a dozen.)
    sentences = [f"{rng.choice(FILLER)} in {words(rng, 2)}" for _ in range(rng.randint(6, 12))]
    title = f"Report {feed}-{number}: {words(rng, 5)}"
    if rng.random() < 1 / 3:
        phrase = rng.choice(PHRASES)
        title += f", in {phrase}"
        sentences.insert(rng.randrange(len(sentences)), f"patients with {phrase}")
    published = EPOCH + timedelta(minutes=number)
    return (
        f"<item><title>{escape(title)}</title>"
        f"<link>https://site{feed}.example/{number}</link>"
        f"<guid isPermaLink='false'>site{feed}-{number}</guid>"
        f"<pubDate>{format_datetime(published)}</pubDate>"
        f"<description>{escape('. '.join(sentences).capitalize() + '.')}</description></item>"
    )


def feed_xml(feed: int, newest: int) -> bytes:
    items = "".join(item_xml(feed, n) for n in range(newest, newest - ITEMS, -1))
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>Site {feed}</title><link>https://site{feed}.example/</link>"
        f"<description>Feed {feed}</description>{items}</channel></rss>"
    ).encode()


def serve_site(port: int, period: float) -> None:
    """The feed site (``--feed-site``): /N.xml gains an item every ``period`` seconds."""
    started = time.monotonic()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            match = re.fullmatch(r"/(\d+)\.xml", self.path)
            if not match:
                self.send_error(404)
                return
            feed = int(match.group(1))
            newest = ITEMS + int((time.monotonic() - started) / period)
            etag = f'"{feed}-{newest}"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            body = feed_xml(feed, newest)
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", etag)
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


# --- processes ------------------------------------------------------------------------------


class Process:
    """A child process with its output in a log file; stopped with SIGTERM, then SIGKILL."""

    def __init__(self, name: str, argv: list[str], log: Path, env: dict[str, str]) -> None:
        self.name = name
        self.log = log
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                argv, cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT
            )

    def stop(self) -> int | None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])


def wait_until(what: str, ready: Any, process: Process, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if process.process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{process.name}: not {what}:\n{process.tail()}")
        time.sleep(0.2)


def answers(port: int, path: str) -> int:
    try:
        return int(fetch(port, path).status)
    except OSError:
        return 0


def write_config(folder: Path, site_port: int, feeds: int, period: float, base: str) -> Path:
    import yaml  # PyYAML is a dependency of feeds

    config: dict[str, Any] = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    samples = [
        {**source, "url": str(REPO / source["url"])}
        for source in config["sources"]
        if str(source["url"]).startswith("feeds/samples/")
    ]
    site = [
        {
            "id": f"site-{n:03d}",
            "name": f"Site {n}",
            "url": f"http://127.0.0.1:{site_port}/{n}.xml",
            "allow_private": True,
        }
        for n in range(feeds)
    ]
    config["sources"] = samples + site
    keep_known_priorities(config)
    config["database"] = f"sqlite:///{folder / 'feeds.db'}"
    config["site"] = {**config.get("site", {}), "base_url": base}
    # One loopback host serves every site feed: no spacing; every source due each period.
    config["fetch"] = {
        **config.get("fetch", {}),
        "host_spacing": 0,
        "per_host": 8,
        "concurrency": 8,
        "interval": f"{period:g}s",
        "min_interval": f"{period:g}s",
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


# --- load -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """One wrk process's figures for one route class."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: dict[str, int]
    not_modified: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def run_load(script: Path, base: str, seconds: int) -> dict[str, Figures]:
    """All classes at once, one wrk process each; their figures by class."""
    running = {}
    for route in CLASSES:
        args = [*route.paths, *(["etag"] if route.conditional else [])]
        command = [
            "wrk",
            "-t1",
            f"-c{route.connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            base,
            "--",
            *args,
        ]
        running[route.key] = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    figures = {}
    for key, process in running.items():
        output, _ = process.communicate(timeout=seconds + 60)
        line = next((x for x in output.splitlines() if x.startswith("BENCH ")), None)
        if process.returncode != 0 or line is None:
            raise RuntimeError(f"wrk ({key}) failed ({process.returncode}):\n{output}")
        raw = json.loads(line.removeprefix("BENCH "))
        figures[key] = Figures(
            requests=raw["requests"],
            seconds=raw["duration_us"] / 1e6,
            p50_ms=raw["p50_us"] / 1e3,
            p99_ms=raw["p99_us"] / 1e3,
            max_ms=raw["max_us"] / 1e3,
            errors={k: raw[k] for k in ("connect", "read", "write", "status", "timeout") if raw[k]},
            not_modified=raw["not_modified"],
        )
    return figures


def fetch_count(samples: dict[str, float]) -> float:
    return sum(v for k, v in samples.items() if k.startswith("feeds_fetches_total"))


METRIC = re.compile(r"^(feeds_[a-z_]+)(\{[^}]*\})? (\S+)$", re.MULTILINE)


def counters(port: int) -> dict[str, float]:
    """Every feeds_* sample of /metrics, keyed by name and labels."""
    answer = fetch(port, "/metrics")
    text = answer.body.decode("utf-8", "replace")
    return {m[1] + (m[2] or ""): float(m[3]) for m in METRIC.finditer(text)}


def update_activity(before: dict[str, float], after: dict[str, float]) -> str:
    """What the updater did between two /metrics readings."""

    def delta(prefix: str) -> float:
        keys = {k for k in (*before, *after) if k.startswith(prefix)}
        return sum(after.get(k, 0) - before.get(k, 0) for k in keys)

    fetches = delta("feeds_fetches_total")
    ok = delta('feeds_fetches_total{outcome="ok"')
    unchanged = delta('feeds_fetches_total{outcome="not_modified"')
    failed = delta("feeds_fetch_errors_total")
    stored = delta("feeds_articles")
    hits = delta('feeds_render_cache_total{result="hit"')
    misses = delta('feeds_render_cache_total{result="miss"')
    stale = delta('feeds_render_cache_total{result="stale"')
    renders = delta("feeds_render_seconds_count")
    render_ms = 1000 * delta("feeds_render_seconds_sum") / renders if renders else 0.0
    slow = renders - delta('feeds_render_seconds_bucket{le="0.25"')
    return (
        f"{fetches:,.0f} fetches ({ok:,.0f} with new content, {unchanged:,.0f} not modified, "
        f"{failed:,.0f} failed), {stored:,.0f} new articles stored; render cache "
        f"{hits:,.0f} hits, {misses:,.0f} misses (rendered), {stale:,.0f} previous bodies "
        f"served while a render ran; {renders:,.0f} renders, {render_ms:.1f} ms on average "
        f"from start to body, {slow:,.0f} over 250 ms"
    )


# --- main -----------------------------------------------------------------------------------


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through the finally blocks that stop processes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=int, default=60, help="load during the update (60)")
    parser.add_argument("--feeds", type=int, default=200, help="site feeds (200)")
    parser.add_argument("--period", type=float, default=10.0, help="s between new items (10)")
    parser.add_argument("--workers", type=int, default=1, help="feeds serve --workers (1)")
    parser.add_argument("--quick", action="store_true", help="5 s, 40 feeds: a smoke check")
    parser.add_argument("--feed-site", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.feed_site:
        serve_site(args.feed_site, args.period)
        return 0
    if args.quick:
        args.seconds, args.feeds, args.period = 5, 40, 3.0
    if min(args.seconds, args.feeds, args.workers) < 1 or args.period <= 0:
        parser.error("--seconds, --feeds and --workers must be at least 1, --period positive")

    print("feeds load benchmark")
    print(f"machine: {machine()}")
    print(f"code: {revision()}")
    print(f"command: python bench/load.py {' '.join(sys.argv[1:])}".rstrip())
    if shutil.which("wrk") is None:
        print("wrk not found (Debian: apt-get install wrk): nothing measured")
        print("zero errors: not measured: MISS")
        print("hot feeds p99 during the update: not measured: MISS")
        return 0
    print(f"software: {versions()}", flush=True)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        with tempfile.TemporaryDirectory(prefix="feeds-bench-load-") as tmp:
            measure(Path(tmp), args.seconds, args.feeds, args.period, args.workers)
    except KeyboardInterrupt:
        print("\ninterrupted: processes stopped")
        return 130
    return 0


def measure(folder: Path, seconds: int, feeds: int, period: float, workers: int) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDS_")}
    site_port, port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    config = write_config(folder, site_port, feeds, period, base)
    script = folder / "load.lua"
    script.write_text(WRK_SCRIPT, encoding="utf-8")
    site = Process(
        "feed site",
        [sys.executable, __file__, "--feed-site", str(site_port), "--period", f"{period:g}"],
        folder / "site.log",
        env,
    )
    processes = [site]
    try:
        wait_until("serving", lambda: answers(site_port, "/0.xml") == 200, site)
        started = time.monotonic()
        summary = fill_database(config, env)
        print(
            f"\ndatabase: {summary['new']} articles from {len(summary['sources'])} sources "
            f"({feeds} site feeds of {ITEMS} items, 4 bundled samples), shipped topics; "
            f"filled in {time.monotonic() - started:.1f} s"
        )
        print(
            f"load: {sum(c.connections for c in CLASSES)} connections, one wrk -t1 per class: "
            + ", ".join(f"{c.key} {c.connections}" for c in CLASSES)
        )
        phases = {}
        for phase, update in (("baseline", False), ("update", True)):
            argv = [sys.executable, "-m", "feeds", "serve", "--config", str(config)]
            argv += ["--port", str(port), "--workers", str(workers)]
            argv += [] if update else ["--no-update"]
            server = Process(f"feeds serve ({phase})", argv, folder / f"{phase}.log", env)
            processes.append(server)
            wait_until("ready", lambda: answers(port, "/readyz") == 200, server)
            for route in CLASSES:
                for path in route.paths:
                    status = answers(port, path)
                    if status != 200:
                        raise RuntimeError(f"{path}: {status}, not 200:\n{server.tail()}")
            length = seconds if update else max(BASELINE_MIN, seconds // 3)
            print(f"\n## {phase}: {length} s, {'with' if update else 'without'} the update")
            print("   feeds " + " ".join(argv[3:]))
            run_load(script, base, WARMUP)  # connections opened, caches and pools warm
            if update:  # measure while a pass runs: wait for the updater's first fetches
                fetched = fetch_count(counters(port))
                wait_until(
                    "updating",
                    lambda since=fetched: fetch_count(counters(port)) > since,
                    server,
                    timeout=period + 60,
                )
            before = counters(port)
            phases[phase] = run_load(script, base, length)
            after = counters(port)
            if update:
                print(f"   during the load the updater made {update_activity(before, after)}")
            for key, figures in phases[phase].items():
                print(f"   {key:8} {show(figures)}")
            load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
            print(f"   load average after the phase (1, 5, 15 min): {load}")
            code = server.stop()
            print(f"   feeds serve stopped (exit {code})", flush=True)
        report(phases)
    finally:
        for process in reversed(processes):
            process.stop()


def show(figures: Figures) -> str:
    errors = ", ".join(f"{k} {v}" for k, v in figures.errors.items()) or "no errors"
    extra = f", {figures.not_modified:,} of them 304" if figures.not_modified else ""
    return (
        f"{figures.rps:8,.0f} req/s ({figures.requests:,} requests{extra})  "
        f"p50 {figures.p50_ms:7.2f} ms  p99 {figures.p99_ms:7.2f} ms  "
        f"max {figures.max_ms:8.2f} ms  {errors}"
    )


def report(phases: dict[str, dict[str, Figures]]) -> None:
    base, during = phases["baseline"], phases["update"]
    print("\n| class | req/s baseline | req/s update | p50 / p99 ms baseline ", end="")
    print("| p50 / p99 ms update | p99 update ÷ baseline | errors |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for key, figures in during.items():
        quiet = base[key]
        ratio = figures.p99_ms / quiet.p99_ms if quiet.p99_ms else float("inf")
        print(
            f"| {key} | {quiet.rps:,.0f} | {figures.rps:,.0f} "
            f"| {quiet.p50_ms:.1f} / {quiet.p99_ms:.1f} | {figures.p50_ms:.1f} / "
            f"{figures.p99_ms:.1f} | {ratio:.2f}× | {quiet.error_count} / {figures.error_count} |"
        )
    total = {p: sum(f.requests for f in figures.values()) for p, figures in phases.items()}
    rate = {p: sum(f.rps for f in figures.values()) for p, figures in phases.items()}
    print(
        f"| all | {rate['baseline']:,.0f} | {rate['update']:,.0f} | | | | "
        f"{total['baseline']:,} / {total['update']:,} requests |"
    )
    errors = sum(f.error_count for figures in phases.values() for f in figures.values())
    hot = during["hot"].p99_ms
    print("\n| target | measured | goal | result |")
    print("| --- | ---: | ---: | --- |")
    print(f"| errors, both phases | {errors} | 0 | {verdict(errors == 0)} |")
    print(
        f"| hot feeds p99 during the update | {hot:.1f} ms | < {MAX_HOT_P99_MS:g} ms "
        f"| {verdict(hot < MAX_HOT_P99_MS)} |"
    )


if __name__ == "__main__":
    sys.exit(main())
