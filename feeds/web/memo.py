"""Storage reads shared by the renders of one data version.

A topic's RSS, Atom and JSON Feed bodies, its HTML page and an API page with the same
filters all start from the same read (``query_stories`` or ``query_articles`` of one
``ArticleQuery``). After a change every one of them is rendered anew, usually at the same
moment, so ``ReadMemo`` keeps each read's result by (kind, query, data version) and lets
the first render that asks do the read while the others wait for it: under an update,
the reads were most of the render time (bench/load.py, docs/performance.md "Load").

What it does not do: decide when a result is stale. The data version is part of the key:
a new version is a new key, and old ones age out of a small LRU.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")
SIZE = 32  # results kept: the hot reads of a version or two (each up to 200 articles)


class ReadMemo:
    """An LRU of read results by key; concurrent askers of one key share one read."""

    def __init__(self, size: int = SIZE) -> None:
        self._size = size
        self._results: OrderedDict[Hashable, Future[Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, read: Callable[[], T]) -> T:
        """The result of ``read()`` for ``key``: kept, being read by another thread (wait
        for it), or read now. A read that raises is not kept."""
        with self._lock:
            future = self._results.get(key)
            reading = future is None
            if future is None:
                future = Future()
                self._results[key] = future
                if len(self._results) > self._size:
                    self._results.popitem(last=False)
            else:
                self._results.move_to_end(key)
        if reading:
            try:
                future.set_result(read())
            except BaseException as error:
                future.set_exception(error)
                with self._lock:
                    if self._results.get(key) is future:
                        del self._results[key]
        result: T = future.result()
        return result
