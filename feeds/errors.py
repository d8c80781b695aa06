"""The one error hierarchy of feeds, and the closed set of fetch error kinds.

Exceptions are for problems that stop a command (a bad config, an unreachable database).
Problems with one source are *results* (``feeds.models.Failed``), not exceptions, so that
one bad source never stops a run. Every message starts with the stage it comes from.
"""

from __future__ import annotations

import enum


class FeedsError(Exception):
    """Base class of every error feeds raises on purpose."""

    stage = "feeds"

    def __init__(self, message: str) -> None:
        super().__init__(f"{self.stage}: {message}")


class ConfigError(FeedsError):
    """The configuration file is missing, unreadable or invalid.

    ``problems`` holds every problem found, each already formatted as
    ``FILE:LINE: location: message`` so a user can fix them all in one go.
    """

    stage = "config"

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems or (f"{self.stage}: {message}",)


class StorageError(FeedsError):
    """The database cannot be opened, migrated, read or written."""

    stage = "storage"


class TransferError(FeedsError):
    """An export file cannot be imported: not a feeds export, damaged, or truncated."""

    stage = "import"


class ErrorKind(enum.StrEnum):
    """Why fetching or parsing one source failed: a small closed set, stored per source.

    The mapping from exceptions and responses to these kinds lives in ``feeds.fetch``
    (network) and ``feeds.parse`` (content) and nowhere else.
    """

    DNS = "dns"  # the host name did not resolve
    CONNECT = "connect"  # no TCP connection (refused, unreachable, reset)
    TIMEOUT = "timeout"  # a connect/read timeout or the whole-request deadline passed
    TLS = "tls"  # the TLS handshake or certificate check failed
    HTTP_STATUS = "http_status"  # the server answered with a non-2xx, non-304 status
    TOO_LARGE = "too_large"  # the (decompressed) body exceeded fetch.max_bytes
    EMPTY = "empty"  # the body was empty
    NOT_A_FEED = "not_a_feed"  # the body is not RSS/Atom (for example an HTML page)
    PARSE = "parse"  # the body looked like a feed but no entry could be read from it
    REDIRECT_LOOP = "redirect_loop"  # too many redirects
    FILE = "file"  # a local file source could not be read
    BLOCKED = "blocked"  # the address is loopback/private/link-local and the source may not
