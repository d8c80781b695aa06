"""``feeds serve`` as a real process: first start fills the database, readers get 304s,
SIGTERM stops it cleanly."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import feedparser

REPO = Path(__file__).parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_fills_an_empty_database_answers_304_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    samples = REPO / "feeds" / "samples"
    config = tmp_path / "config.yaml"
    config.write_text(
        f"site: {{title: Test Feeds, base_url: '{base}'}}\n"
        "database: sqlite:///feeds.db\n"
        "sources:\n"
        f"  - {{id: wire, name: Wire, url: '{samples / 'health-wire.rss'}'}}\n"
        f"  - {{id: digest, name: Digest, url: '{samples / 'research-digest.atom'}'}}\n"
        "topics:\n"
        "  - {slug: lupus, title: Lupus, terms: [lupus, systemic lupus erythematosus]}\n",
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "feeds", "serve", "--config", str(config), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/readyz", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)

        first = feedparser.parse(f"{base}/feeds/lupus.rss")
        assert first.status == 200
        assert first.entries  # the first page a new user opens is never empty
        assert all("lupus" in {t.term for t in e.tags} for e in first.entries)
        second = feedparser.parse(
            f"{base}/feeds/lupus.rss", etag=first.etag, modified=first.modified
        )
        assert second.status == 304
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output.decode()
    assert b"Shutting down" in output
