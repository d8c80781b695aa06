"""Serving benchmark: requests/s of the real app against a minimal Starlette app, same bytes.

Run from the repository root (needs ``wrk``: ``apt-get install wrk``)::

    python bench/serve.py            # 4 scenarios, 3 runs of 5 s each per server: ~2.5 min
    python bench/serve.py --quick    # 1 run of 1 s each: a smoke check (~20 s)

What it runs, in one process tree on this machine:

- **the real app**: a database filled from the bundled samples (``feeds/samples``, the
  shipped topics of ``config.yaml``) in a temporary folder, served by
  ``uvicorn feeds.web.app:create_app_from_environment --factory`` with ``$FEEDS_CONFIG`` set
  (what ``feeds serve --no-update`` runs);
- **the baseline**: ``create_baseline_app`` below, a Starlette app with one route that
  returns, from memory, the response the real app gave for the scenario: the same status,
  body and headers. It is served by the same uvicorn command line (``UVICORN_FLAGS``), and
  restarted for each scenario with that scenario's response;
- **the load**: ``wrk`` with 2 threads and 50 keep-alive connections, through a generated Lua
  script that sets the request headers and prints requests/s, p50 and p99 latency.

Scenarios: a hot (cached) topic feed in identity and in gzip encoding, a 304 answer to
If-None-Match, and a cold filtered query (every request a render-cache miss: each carries a
unique ``since=`` instant years before the oldest article, which changes the cache key and
not the result). For each, both servers get a warm-up, then 3 alternating runs each; the
best run of each counts. Targets: hot feed ≥ 0.85× the baseline's requests/s, 304 ≥ 0.9×,
hot feed p99 latency < 20 ms. The cold query's ratio is information only. Each target is
printed as PASS or MISS; the process exits 0 either way (a benchmark reports, it does not
gate).
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import Any

# Run as a script (python bench/serve.py) or imported as bench.serve by uvicorn (the
# baseline app): either way the repository root is on sys.path, so report is bench.report.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.report import machine, revision, verdict

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "config.yaml"

# Both servers run with exactly these uvicorn options (one worker process, no access log).
UVICORN_FLAGS = (
    "--factory",
    "--workers",
    "1",
    "--loop",
    "uvloop",
    "--http",
    "httptools",
    "--no-access-log",
    "--log-level",
    "warning",
)
REAL_APP = "feeds.web.app:create_app_from_environment"
BASELINE_APP = "bench.serve:create_baseline_app"
RESPONSE_ENV = "FEEDS_BENCH_RESPONSE"  # the baseline's response: a JSON file (see below)

HOT_PATH = "/feeds/lupus.rss"
COLD_PATH = "/feeds/all.rss?topics=lupus,car-t&match=all&q=remission"
GZIP = ("Accept-Encoding", "gzip")

# Cache busting for the cold query: since= instants from 1990 on, 10^7 s (~4 months) apart
# per wrk run and 5·10^6 s apart per wrk thread, so no key repeats within a benchmark (a
# thread sends far fewer than 5·10^6 requests in a run). The samples start in 2017.
BUST_EPOCH = 631_152_000  # 1990-01-01T00:00:00Z
BUST_RUN_STRIDE = 10_000_000
BUST_THREAD_STRIDE = 5_000_000  # in the Lua script
PROBE_BUST = 315_532_800  # 1980-01-01: the probe's key, outside every run's range

# Targets.
MIN_HOT_RATIO = 0.85
MIN_NOT_MODIFIED_RATIO = 0.90
MAX_HOT_P99_MS = 20.0

WRK_SCRIPT = r"""
-- Written by bench/serve.py. Arguments after "--": "Name: value" request headers, and
-- "bust=N" to give every request a unique since= parameter (a render-cache miss).
local bust = nil
local counter = 0
local base_path = nil
local threads = 0

function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

function init(args)
  for _, arg in ipairs(args) do
    local offset = arg:match("^bust=(%d+)$")
    if offset then
      bust = tonumber(offset) + id * 5000000
    else
      local name, value = arg:match("^([^:]+):%s*(.*)$")
      wrk.headers[name] = value
    end
  end
  base_path = wrk.path
  if bust then
    local sep = base_path:find("?", 1, true) and "&" or "?"
    request = function()
      counter = counter + 1
      local since = os.date("!%Y-%m-%dT%H:%M:%SZ", bust + counter)
      return wrk.format(nil, base_path .. sep .. "since=" .. since)
    end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %.0f, ' ..
    '"p99_us": %.0f, "max_us": %.0f, "connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


# --- the baseline app ---------------------------------------------------------------------


def create_baseline_app() -> Starlette:
    """A minimal app: one route, one fixed response from memory (factory for uvicorn).

    ``$FEEDS_BENCH_RESPONSE`` names a JSON file ``{"status", "headers", "body"}``: the
    status, the headers to send (Content-Length is computed, as the real app's is) and the
    path of a file holding the body.
    """
    spec = json.loads(Path(os.environ[RESPONSE_ENV]).read_text(encoding="utf-8"))
    status = int(spec["status"])
    headers = {str(k): str(v) for k, v in spec["headers"].items()}
    body = Path(spec["body"]).read_bytes()

    async def answer(request: Request) -> Response:
        return Response(body, status_code=status, headers=headers)

    # The real app's feed route, so both routers match the same pattern.
    return Starlette(routes=[Route("/feeds/{slug}.{format}", answer)])


# --- servers ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A uvicorn process serving one app on 127.0.0.1."""

    name: str
    app: str
    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def command(self) -> list[str]:
        return [sys.executable, "-m", "uvicorn", self.app, *UVICORN_FLAGS, "--port", str(self.port)]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_path: str, ready_status: int = 200, timeout: float = 30.0) -> None:
        """Start, and wait until ``ready_path`` answers ``ready_status``."""
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                self.command, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start:\n{self.log_tail()}")
            try:
                if fetch(self.port, ready_path).status == ready_status:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} not ready after {timeout:g} s:\n{self.log_tail()}")
            time.sleep(0.1)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def log_tail(self) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])
        except OSError:
            return "(no log)"


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes


def cpu_seconds(process: subprocess.Popen[bytes] | None) -> float:
    """User + system CPU seconds a process has used so far (Linux ``/proc``; else 0)."""
    if process is None:
        return 0.0
    try:
        stat = Path(f"/proc/{process.pid}/stat").read_text(encoding="ascii")
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state is fields[0]
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def fetch(port: int, path: str, headers: Mapping[str, str] | None = None) -> Answer:
    """One GET on a fresh connection; the raw body (not decompressed)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=dict(headers or {}))
        response = connection.getresponse()
        body = response.read()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, body)
    finally:
        connection.close()


# Headers each server sets itself: uvicorn's Date and Server, Starlette's Content-Length.
SERVER_HEADERS = frozenset({"date", "server", "content-length"})


def replayed_headers(answer: Answer) -> dict[str, str]:
    return {k: v for k, v in answer.headers.items() if k not in SERVER_HEADERS}


CACHE_METRIC = re.compile(r'^feeds_render_cache_total\{result="(hit|miss)"\} (\S+)$', re.MULTILINE)


def cache_counts(port: int) -> dict[str, int] | None:
    """The app's render-cache hits and misses so far (from /metrics), or None."""
    try:
        answer = fetch(port, "/metrics")
    except OSError:
        return None
    if answer.status != 200:
        return None
    text = answer.body.decode("utf-8", "replace")
    return {m[1]: int(float(m[2])) for m in CACHE_METRIC.finditer(text)}


# --- load ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One wrk run's figures."""

    requests: int
    seconds: float
    bytes: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: dict[str, int]
    cpu_seconds: float = 0.0  # the server process's user + system CPU time during the run

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_us(self) -> float:
        """Server CPU time per request, in µs: what the app costs, less disturbed than
        requests/s by other jobs on a shared machine (it still counts cache misses)."""
        return self.cpu_seconds / self.requests * 1e6 if self.requests else 0.0

    @property
    def bytes_per_request(self) -> float:
        return self.bytes / self.requests if self.requests else 0.0


@dataclass
class Load:
    """How wrk is run."""

    script: Path
    threads: int
    connections: int
    runs: int = 0  # wrk runs so far (each cold run gets its own cache-busting range)

    def command(
        self, url: str, seconds: int, headers: Sequence[tuple[str, str]], bust: bool
    ) -> list[str]:
        args = [f"{name}: {value}" for name, value in headers]
        if bust:
            args.append(f"bust={BUST_EPOCH + self.runs * BUST_RUN_STRIDE}")
        return [
            "wrk",
            f"-t{self.threads}",
            f"-c{self.connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(self.script),
            url,
            "--",
            *args,
        ]

    def run(self, url: str, seconds: int, headers: Sequence[tuple[str, str]], bust: bool) -> Run:
        command = self.command(url, seconds, headers, bust)
        self.runs += 1
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
        line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH ")), None)
        if done.returncode != 0 or line is None:
            raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        raw: dict[str, int] = json.loads(line.removeprefix("BENCH "))
        return Run(
            requests=raw["requests"],
            seconds=raw["duration_us"] / 1e6,
            bytes=raw["bytes"],
            p50_ms=raw["p50_us"] / 1e3,
            p99_ms=raw["p99_us"] / 1e3,
            max_ms=raw["max_us"] / 1e3,
            errors={k: raw[k] for k in ("connect", "read", "write", "status", "timeout") if raw[k]},
        )


# --- scenarios ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    path: str
    headers: tuple[tuple[str, str], ...]
    status: int  # what the real app must answer
    bust: bool = False  # a unique since= per request (cold)
    min_ratio: float | None = None  # target: real ÷ baseline requests/s
    max_p99_ms: float | None = None  # target: the real app's p99 latency


@dataclass(frozen=True)
class Result:
    scenario: Scenario
    real: list[Run]
    baseline: list[Run]
    real_bytes: int  # the probe's body size
    baseline_bytes: int

    @property
    def best_real(self) -> Run:
        return max(self.real, key=lambda r: r.rps)

    @property
    def best_baseline(self) -> Run:
        return max(self.baseline, key=lambda r: r.rps)

    @property
    def ratio(self) -> float:
        return self.best_real.rps / self.best_baseline.rps


SCENARIO_KEYS = ("hot-identity", "hot-gzip", "not-modified", "cold")


def scenarios(etag: str) -> list[Scenario]:
    return [
        Scenario(
            "hot-identity",
            "hot feed, identity",
            HOT_PATH,
            (),
            200,
            min_ratio=MIN_HOT_RATIO,
            max_p99_ms=MAX_HOT_P99_MS,
        ),
        Scenario(
            "hot-gzip",
            "hot feed, gzip",
            HOT_PATH,
            (GZIP,),
            200,
            min_ratio=MIN_HOT_RATIO,
            max_p99_ms=MAX_HOT_P99_MS,
        ),
        Scenario(
            "not-modified",
            "304 (If-None-Match)",
            HOT_PATH,
            (GZIP, ("If-None-Match", etag)),
            304,
            min_ratio=MIN_NOT_MODIFIED_RATIO,
        ),
        Scenario(
            "cold",
            "cold filtered query, gzip",
            COLD_PATH,
            (GZIP,),
            200,
            bust=True,
        ),
    ]


def bust_path(path: str, offset: int) -> str:
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(offset))
    return f"{path}{'&' if '?' in path else '?'}since={since}"


def items(answer: Answer) -> int:
    """How many RSS items a feed body holds."""
    body = answer.body
    if answer.headers.get("content-encoding") == "gzip":
        body = gzip.decompress(body)
    return body.count(b"<item>")


# --- set-up -------------------------------------------------------------------------------


def keep_known_priorities(config: dict[str, Any]) -> None:
    """Drop from ``stories.source_priority`` the shipped sources a benchmark left out (the
    config check refuses a priority naming an unknown source)."""
    if "stories" in config:
        kept = {source["id"] for source in config["sources"]}
        stories = config["stories"]
        stories["source_priority"] = [s for s in stories.get("source_priority", []) if s in kept]


def write_config(folder: Path) -> Path:
    """``config.yaml`` with only its bundled sample sources, and a database in ``folder``."""
    import yaml  # PyYAML is a dependency of feeds

    config: dict[str, Any] = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    config["database"] = f"sqlite:///{folder / 'feeds.db'}"
    config["sources"] = [
        {**source, "url": str(REPO / source["url"])}
        for source in config["sources"]
        if str(source["url"]).startswith("feeds/samples/")
    ]
    if not config["sources"]:
        raise RuntimeError(f"no bundled sample source (feeds/samples/...) in {CONFIG}")
    keep_known_priorities(config)
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def fill_database(config: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``feeds update --json`` on ``config``; its summary (raises if the update fails)."""
    done = subprocess.run(
        [sys.executable, "-m", "feeds", "update", "--config", str(config), "--json"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"feeds update failed:\n{done.stdout}\n{done.stderr}")
    summary: dict[str, Any] = json.loads(done.stdout)
    return summary


def write_response(folder: Path, key: str, answer: Answer) -> Path:
    body = folder / f"{key}.body"
    body.write_bytes(answer.body)
    spec = folder / f"{key}.json"
    spec.write_text(
        json.dumps(
            {"status": answer.status, "headers": replayed_headers(answer), "body": str(body)}
        ),
        encoding="utf-8",
    )
    return spec


# --- report -------------------------------------------------------------------------------


def versions() -> str:
    names = ("uvicorn", "starlette", "uvloop", "httptools")
    found = []
    for name in names:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} missing")
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout
    match = re.search(r"wrk (\S+)", wrk)
    return ", ".join([*found, f"wrk {match.group(1) if match else '?'}"])


def show_run(run: Run) -> str:
    errors = ", ".join(f"{k} {v}" for k, v in run.errors.items()) or "no errors"
    return (
        f"{run.rps:8,.0f} req/s  p50 {run.p50_ms:6.2f} ms  p99 {run.p99_ms:6.2f} ms  "
        f"max {run.max_ms:7.2f} ms  {run.bytes_per_request:7,.0f} B/req  "
        f"CPU {run.cpu_us:5.1f} µs/req  {errors}"
    )


# --- main ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    warmup: int  # seconds per server per scenario
    seconds: int  # per run
    runs: int  # per server per scenario


FULL = Timing(warmup=2, seconds=5, runs=3)
QUICK = Timing(warmup=1, seconds=1, runs=1)


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through the finally blocks that stop servers


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="1 run of 1 s each: a smoke check")
    parser.add_argument("--seconds", type=int, help="seconds per run (default 5)")
    parser.add_argument("--runs", type=int, help="runs per server and scenario (default 3)")
    parser.add_argument("--connections", type=int, default=50, help="wrk -c (default 50)")
    parser.add_argument("--threads", type=int, default=2, help="wrk -t (default 2)")
    parser.add_argument(
        "--only", action="append", choices=SCENARIO_KEYS, help="run only this scenario (repeatable)"
    )
    parser.add_argument(
        "--app",
        default=REAL_APP,
        metavar="MODULE:FACTORY",
        help=f"the app factory measured against the baseline (default {REAL_APP}); "
        "to try a change to the app before making it",
    )
    args = parser.parse_args(argv)
    base = QUICK if args.quick else FULL
    options = Options(
        timing=Timing(base.warmup, args.seconds or base.seconds, args.runs or base.runs),
        threads=args.threads,
        connections=args.connections,
        only=tuple(args.only or SCENARIO_KEYS),
        app=args.app,
    )
    if min(options.timing.seconds, options.timing.runs, args.connections, args.threads) < 1:
        parser.error("--seconds, --runs, --connections and --threads must be at least 1")

    print("feeds serving benchmark")
    print(f"machine: {machine()}")
    print(f"code: {revision()}")
    print(f"command: python bench/serve.py {' '.join(sys.argv[1:])}".rstrip())
    if shutil.which("wrk") is None:
        print("wrk not found (Debian: apt-get install wrk): nothing measured")
        for target in ("hot feed ratios", "304 ratio", "hot feed p99"):
            print(f"{target}: not measured: MISS")
        return 0
    print(f"software: {versions()}")
    print(f"uvicorn options (both servers): {' '.join(UVICORN_FLAGS)}")
    print(
        f"load: wrk -t{args.threads} -c{args.connections}, warm-up {options.timing.warmup} s, "
        f"then {options.timing.runs} run(s) of {options.timing.seconds} s per server, "
        "alternating; the best run of each counts"
    )
    print(
        f"note: wrk and the servers share this machine's {os.cpu_count()} CPUs: absolute "
        "figures are pessimistic, the ratios are what the targets judge",
        flush=True,
    )

    signal.signal(signal.SIGTERM, _terminate)
    try:
        with tempfile.TemporaryDirectory(prefix="feeds-bench-serve-") as tmp:
            results = measure(Path(tmp), options)
    except KeyboardInterrupt:
        print("\ninterrupted: servers stopped")
        return 130
    report(results)
    return 0


@dataclass(frozen=True)
class Options:
    timing: Timing
    threads: int
    connections: int
    only: tuple[str, ...]  # scenario keys
    app: str  # the app under test, as uvicorn's MODULE:FACTORY


def measure(folder: Path, options: Options) -> list[Result]:
    config = write_config(folder)
    summary = fill_database(config)
    print(
        f"\ndatabase: {summary['new']} articles from {len(summary['sources'])} bundled sample "
        f"feeds, shipped topics of config.yaml ({folder})"
    )
    script = folder / "bench.lua"
    script.write_text(WRK_SCRIPT, encoding="utf-8")
    load = Load(script, options.threads, options.connections)

    env = {**os.environ, "FEEDS_CONFIG": str(config)}
    env.pop("FEEDS_DATABASE_URL", None)
    real = Server("feeds app", options.app, env, folder / "real.log")
    results: list[Result] = []
    try:
        real.start("/readyz")
        print(f"feeds app: uvicorn {options.app} {' '.join(UVICORN_FLAGS)} --port {real.port}")
        print(f"   with FEEDS_CONFIG={config}")

        # Probe each scenario's response once: it is what the baseline will send.
        identity = fetch(real.port, HOT_PATH)
        gzipped = fetch(real.port, HOT_PATH, dict([GZIP]))
        if identity.status != 200 or gzipped.status != 200 or "etag" not in gzipped.headers:
            raise RuntimeError(
                f"GET {HOT_PATH}: the feeds app answered {identity.status} / {gzipped.status} "
                f"(200 with an ETag expected):\n{real.log_tail()}"
            )
        print(
            f"hot feed {HOT_PATH}: {items(identity)} items, {len(identity.body):,} bytes "
            f"identity, {len(gzipped.body):,} bytes gzip"
        )
        for scenario in scenarios(gzipped.headers["etag"]):
            if scenario.key not in options.only:
                continue
            path = bust_path(scenario.path, PROBE_BUST) if scenario.bust else scenario.path
            answer = fetch(real.port, path, dict(scenario.headers))
            if answer.status != scenario.status:
                raise RuntimeError(
                    f"{scenario.key}: the feeds app answered {answer.status}, not {scenario.status}"
                )
            if scenario.bust:
                plain = fetch(real.port, scenario.path, dict(scenario.headers))
                print(
                    f"cold query {COLD_PATH}: {items(answer)} items with a since= cache buster, "
                    f"{items(plain)} without; {len(answer.body):,} bytes gzip"
                )
            results.append(run_scenario(folder, scenario, answer, real, load, options.timing))
    finally:
        real.stop()
    return results


def run_scenario(
    folder: Path, scenario: Scenario, answer: Answer, real: Server, load: Load, timing: Timing
) -> Result:
    spec = write_response(folder, scenario.key, answer)
    baseline = Server(
        "baseline app",
        BASELINE_APP,
        {**os.environ, RESPONSE_ENV: str(spec)},
        folder / f"baseline-{scenario.key}.log",
    )
    print(f"\n## {scenario.title}: GET {scenario.path}", flush=True)
    for name, value in scenario.headers:
        print(f"   {name}: {value}")
    try:
        baseline.start(scenario.path, answer.status)
        check = fetch(baseline.port, scenario.path, dict(scenario.headers))
        same = (
            check.status == answer.status
            and check.body == answer.body
            and replayed_headers(check) == replayed_headers(answer)
        )
        print(
            f"baseline: {BASELINE_APP} (same uvicorn options) — answers "
            f"{'the same status, headers and body' if same else 'DIFFERENTLY'} "
            f"({check.status}, {len(check.body):,} bytes)"
        )
        if scenario.bust:
            print("   (the real app's bodies differ per request only in the since= of self links)")
        shown = load.command(f"{real.base}{scenario.path}", timing.seconds, scenario.headers, False)
        if scenario.bust:
            shown.append("bust=<run offset>")
        print("   wrk: " + " ".join(_quote(a) for a in shown))

        servers = (("feeds", real), ("baseline", baseline))
        for _, server in servers:
            load.run(
                f"{server.base}{scenario.path}", timing.warmup, scenario.headers, scenario.bust
            )
        runs: dict[str, list[Run]] = {"feeds": [], "baseline": []}
        for number in range(1, timing.runs + 1):
            for name, server in servers:
                before = cache_counts(server.port) if server is real else None
                cpu_before = cpu_seconds(server.process)
                run = load.run(
                    f"{server.base}{scenario.path}", timing.seconds, scenario.headers, scenario.bust
                )
                run = replace(run, cpu_seconds=cpu_seconds(server.process) - cpu_before)
                runs[name].append(run)
                after = cache_counts(server.port) if server is real else None
                line = f"   run {number} {name:8} {show_run(run)}"
                if before is not None and after is not None:
                    hits, misses = (after.get(k, 0) - before.get(k, 0) for k in ("hit", "miss"))
                    line += f"  cache: {hits:,} hits, {misses:,} misses"
                print(line, flush=True)
    finally:
        baseline.stop()
    return Result(scenario, runs["feeds"], runs["baseline"], len(answer.body), len(check.body))


def _quote(arg: str) -> str:
    return arg if re.fullmatch(r"[\w./:=,?&<>+-]+", arg) else f"'{arg}'"


def report(results: Sequence[Result]) -> None:
    print("\n| scenario | feeds req/s | baseline req/s | ratio | feeds p50 / p99 ms | ", end="")
    print("baseline p50 / p99 ms | body bytes |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        real, base = r.best_real, r.best_baseline
        print(
            f"| {r.scenario.title} | {real.rps:,.0f} | {base.rps:,.0f} | {r.ratio:.2f}× "
            f"| {real.p50_ms:.2f} / {real.p99_ms:.2f} | {base.p50_ms:.2f} / {base.p99_ms:.2f} "
            f"| {r.real_bytes:,} |"
        )
    errors = [
        (r.scenario.key, name, run.errors)
        for r in results
        for name, runs in (("feeds", r.real), ("baseline", r.baseline))
        for run in runs
        if run.errors
    ]
    for key, name, found in errors:
        print(f"warning: {key} {name}: wrk errors {found}")

    print("\n| target | measured | goal | result |")
    print("| --- | ---: | ---: | --- |")
    for r in results:
        if r.scenario.min_ratio is not None:
            print(
                f"| {r.scenario.title}: feeds ÷ baseline req/s | {r.ratio:.3f}× "
                f"| ≥ {r.scenario.min_ratio:g}× | {verdict(r.ratio >= r.scenario.min_ratio)} |"
            )
        if r.scenario.max_p99_ms is not None:
            p99 = r.best_real.p99_ms
            print(
                f"| {r.scenario.title}: feeds p99 latency | {p99:.2f} ms "
                f"| < {r.scenario.max_p99_ms:g} ms | {verdict(p99 < r.scenario.max_p99_ms)} |"
            )
    for r in results:
        if r.scenario.min_ratio is None:
            print(
                f"| {r.scenario.title}: feeds ÷ baseline req/s (information) | {r.ratio:.3f}× "
                "| – | – |"
            )

    # Information: server CPU per request, the lowest of the runs (the least disturbed).
    print("\n| scenario | feeds CPU µs/req | baseline CPU µs/req | baseline ÷ feeds |")
    print("| --- | ---: | ---: | ---: |")
    for r in results:
        real_cpu = min((run.cpu_us for run in r.real if run.cpu_us), default=0.0)
        base_cpu = min((run.cpu_us for run in r.baseline if run.cpu_us), default=0.0)
        shown = f"{base_cpu / real_cpu:.2f}×" if real_cpu and base_cpu else "–"
        print(f"| {r.scenario.title} | {real_cpu:.1f} | {base_cpu:.1f} | {shown} |")


if __name__ == "__main__":
    sys.exit(main())
