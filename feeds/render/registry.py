"""The renderers by format name: ``render(view, "rss" | "atom" | "json")`` → body + media type.

Each format module turns a ``FeedView`` into bytes and names its media type; this module
pairs the two in a ``Rendered`` and looks formats up by name. It does no caching, gzip or
ETag (the web layer does, keyed on the bytes, which is why every renderer is deterministic)
and no content negotiation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from feeds.render import atom, jsonfeed, rss
from feeds.render.view import FeedView


@dataclass(frozen=True, slots=True)
class Rendered:
    """A rendered document, ready to serve."""

    body: bytes  # the document, UTF-8 encoded
    media_type: str  # the Content-Type to serve it with, charset included


def _renderer(
    to_bytes: Callable[[FeedView], bytes], media_type: str
) -> Callable[[FeedView], Rendered]:
    def render_format(view: FeedView) -> Rendered:
        return Rendered(body=to_bytes(view), media_type=media_type)

    return render_format


RENDERERS: Mapping[str, Callable[[FeedView], Rendered]] = MappingProxyType(
    {
        "rss": _renderer(rss.render_rss, rss.MEDIA_TYPE),
        "atom": _renderer(atom.render_atom, atom.MEDIA_TYPE),
        "json": _renderer(jsonfeed.render_json_feed, jsonfeed.MEDIA_TYPE),
    }
)


def render(view: FeedView, fmt: str) -> Rendered:
    """``view`` in format ``fmt``; ``KeyError`` when ``fmt`` is not one of ``RENDERERS``."""
    try:
        renderer = RENDERERS[fmt]
    except KeyError:
        raise KeyError(f"unknown feed format {fmt!r}; known: {', '.join(RENDERERS)}") from None
    return renderer(view)
