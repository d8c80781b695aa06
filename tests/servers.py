"""A real ``feeds serve`` process on a free loopback port, for end-to-end and browser tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SAMPLES = Path(__file__).parent.parent / "feeds" / "samples"
SAMPLE_SOURCES = {
    "wire": "health-wire.rss",
    "digest": "research-digest.atom",
    "clinic": "clinic-notes.rdf",
    "europe": "europe-health.rss",
}
TOPICS = (
    "  - {slug: lupus, title: Lupus, terms: [lupus, systemic lupus erythematosus]}\n"
    "  - {slug: car-t, title: CAR-T cell therapy,"
    " terms: [CAR-T, CAR T cell, chimeric antigen receptor]}\n"
)

# Talk to the server directly, never through a proxy from the environment.
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sample_config(
    folder: Path, base: str, sources: tuple[str, ...] = tuple(SAMPLE_SOURCES)
) -> Path:
    """A config over some of the bundled sample feeds, with lupus and car-t topics."""
    lines = [f"site: {{title: Test Feeds, base_url: '{base}'}}", "database: sqlite:///feeds.db"]
    lines.append("sources:")
    lines += [
        f"  - {{id: {s}, name: {s.title()}, url: '{SAMPLES / SAMPLE_SOURCES[s]}'}}" for s in sources
    ]
    path = folder / "config.yaml"
    path.write_text("\n".join(lines) + "\ntopics:\n" + TOPICS, encoding="utf-8")
    return path


class Served:
    """A running server: its base URL, its process and its log."""

    def __init__(self, base: str, process: subprocess.Popen[bytes], log: Path) -> None:
        self.base = base
        self.process = process
        self.log = log

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def serving(folder: Path, sources: tuple[str, ...] = tuple(SAMPLE_SOURCES)) -> Iterator[Served]:
    """Run ``feeds serve`` until ready (an empty database is filled first); SIGTERM on exit,
    and then ``Served.process.returncode`` tells how it ended."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    config = sample_config(folder, base, sources)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDS_")}
    log = folder / "serve.log"  # a file, not a pipe: nothing blocks the server if nobody reads
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "feeds", "serve", "--config", str(config), "--port", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
        )
    served = Served(base, process, log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with opener.open(f"{base}/readyz", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError as error:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(
                        f"feeds serve is not ready ({error}):\n{served.output()}"
                    ) from None
                time.sleep(0.2)
        yield served
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
