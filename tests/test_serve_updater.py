"""``feeds serve``'s updater is a child process (``python -m feeds.worker``): one of it, the
web server never waits for its GIL, it is restarted if it dies, and it never outlives serve.

Linux only, like the deployment: the children are read from ``/proc``."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import feedparser
import pytest

from feeds.web.serve import stopped_by
from tests.servers import serving

pytestmark = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs /proc")


def children(pid: int) -> list[int]:
    """The pids of ``pid``'s child processes (every thread's children, see proc(5))."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except FileNotFoundError:  # the thread ended meanwhile
            continue
    return found


def updaters(pid: int) -> list[int]:
    """``pid``'s children that run the updater."""
    found = []
    for child in children(pid):
        try:
            argv = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        except FileNotFoundError:
            continue
        if b"feeds.worker" in argv:
            found.append(child)
    return found


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status


def wait_until(what: str, condition: Callable[[], bool], log: Callable[[], str]) -> None:
    deadline = time.monotonic() + 20
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{log()}"
        time.sleep(0.1)


def test_serve_runs_one_updater_process_and_restarts_it_when_it_dies(tmp_path: Path) -> None:
    with serving(tmp_path, sources=("wire", "digest")) as served:
        serve = served.process.pid
        wait_until("the updater process", lambda: len(updaters(serve)) == 1, served.output)
        (first,) = updaters(serve)
        os.kill(first, signal.SIGKILL)
        wait_until(
            "a new updater process",
            lambda: updaters(serve) not in ([], [first]),
            served.output,
        )
        (second,) = updaters(serve)
        assert feedparser.parse(f"{served.base}/feeds/lupus.rss").status == 200
        assert "updater exited with status -9; restarting in 1 s" in served.output()
    assert served.process.returncode == 0, served.output()
    assert not alive(second), "the updater outlived feeds serve"


def test_serve_stopped_by_sigterm_stops_its_updater_too(tmp_path: Path) -> None:
    with serving(tmp_path, sources=("wire", "digest")) as served:
        serve = served.process.pid
        wait_until("the updater process", lambda: len(updaters(serve)) == 1, served.output)
        (updater,) = updaters(serve)
    assert served.process.returncode == 0, served.output()
    assert not alive(updater), "the updater outlived feeds serve"
    assert "Traceback" not in served.output()


def test_serve_killed_with_sigkill_takes_its_updater_with_it(tmp_path: Path) -> None:
    with serving(tmp_path, sources=("wire", "digest")) as served:
        serve = served.process.pid
        wait_until("the updater process", lambda: len(updaters(serve)) == 1, served.output)
        (updater,) = updaters(serve)
        served.process.kill()
        served.process.wait()
        wait_until("the updater to die", lambda: not alive(updater), served.output)


def test_a_signal_to_the_whole_process_group_stops_serve_without_restarting_its_updater(
    tmp_path: Path,
) -> None:
    # As Ctrl-C in a terminal or systemd's stop do: the updater gets the signal directly,
    # at the same moment as serve, and must not be taken for a crashed one and restarted.
    with serving(tmp_path, sources=("wire", "digest")) as served:
        serve = served.process.pid
        wait_until("the updater process", lambda: len(updaters(serve)) == 1, served.output)
        (updater,) = updaters(serve)
        os.kill(updater, signal.SIGTERM)
        os.kill(serve, signal.SIGTERM)
        served.process.wait(timeout=20)
    output = served.output()
    assert served.process.returncode == 0, output
    assert "updater stopped by SIGTERM" in output
    assert "updater exited with status" not in output  # no error, no restart
    assert not alive(updater)


@pytest.mark.parametrize(
    ("returncode", "signal_name"),
    [
        (143, "SIGTERM"),  # the updater stopped cleanly on SIGTERM (128 + 15)
        (130, "SIGINT"),  # ... on SIGINT (Ctrl-C)
        (-15, "SIGTERM"),  # SIGTERM killed it before its handler was installed
        (-9, None),  # SIGKILL (the OOM killer, kill -9): a crash, restarted with a backoff
        (0, None),
        (1, None),  # the database could not be opened
        (2, None),  # a configuration error
    ],
)
def test_an_updater_stopped_by_a_signal_is_told_from_one_that_crashed(
    returncode: int, signal_name: str | None
) -> None:
    assert stopped_by(returncode) == signal_name
