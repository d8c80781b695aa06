"""The renders of one data version share their storage reads (``feeds.web.memo``)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from feeds.web.memo import ReadMemo


def test_renders_asking_for_one_read_at_once_share_it() -> None:
    memo = ReadMemo()
    started, release = threading.Event(), threading.Event()
    reads: list[int] = []

    def read() -> tuple[str, ...]:
        reads.append(1)
        started.set()
        assert release.wait(10)
        return ("a1", "a2")

    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(memo.get, ("stories", "lupus", (7,)), read)
        assert started.wait(10)
        others = [pool.submit(memo.get, ("stories", "lupus", (7,)), read) for _ in range(3)]
        release.set()
        results = [first.result(), *(f.result() for f in others)]
    assert reads == [1]
    assert results == [("a1", "a2")] * 4


def test_a_new_data_version_is_a_new_read_and_old_ones_age_out() -> None:
    memo = ReadMemo(size=2)
    assert memo.get(("q", (1,)), lambda: "v1") == "v1"
    assert memo.get(("q", (2,)), lambda: "v2") == "v2"
    assert memo.get(("q", (1,)), lambda: "again") == "v1"  # kept
    memo.get(("q", (3,)), lambda: "v3")  # the least recently used, version 2, goes
    assert memo.get(("q", (2,)), lambda: "read again") == "read again"


def test_a_read_that_fails_is_not_kept() -> None:
    memo = ReadMemo()

    def fail() -> str:
        raise RuntimeError("storage: the database is locked")

    with pytest.raises(RuntimeError, match="locked"):
        memo.get("key", fail)
    assert memo.get("key", lambda: "ok") == "ok"
