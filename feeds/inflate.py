"""Undo a response's Content-Encoding without ever holding more than a set number of bytes.

httpx decodes gzip, deflate and brotli one network read at a time, and each read may
inflate without bound before anyone can count it: 165 bytes of brotli are 100 MB of
zeros, so one 64 KiB read of a brotli bomb is many gigabytes in a single call (a gzip read
is at most about 1,000 times larger, deflate's limit). The fetcher therefore reads the raw
bytes and decodes them here, asking each decompressor for at most ``limit`` bytes at a time
(zlib's ``max_length``; brotli's ``output_buffer_limit``, which it honours in whole buffer
blocks, so a brotli piece may reach about 32 KiB) so the caller can stop as soon as the body
passes ``fetch.max_bytes``.

Encodings are the ones the fetcher asks for in Accept-Encoding (RFC 9110 §8.4.1): ``gzip``
(and ``x-gzip``), ``deflate`` (zlib-wrapped, or raw as some servers send it) and ``br``
(RFC 7932), applied in the order listed, so undone in reverse. An unknown coding is passed
through as it is, as httpx does; the parser then says whether it is a feed.

What it does not do: count the total or decide what is too large (``feeds.fetch`` does).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from typing import Protocol

import brotli


class DecodeError(Exception):
    """The body is not valid for its declared Content-Encoding."""


class _Decoder(Protocol):
    def decode(self, data: bytes, limit: int) -> Iterator[bytes]: ...


class _Zlib:
    """gzip (wbits 16 + 15) or deflate (zlib wrapper, else raw: RFC 9110 §8.4.1.2)."""

    def __init__(self, gzip: bool) -> None:
        self._gzip = gzip
        self._inflater = zlib.decompressobj(zlib.MAX_WBITS | 16 if gzip else zlib.MAX_WBITS)
        self._started = False

    def decode(self, data: bytes, limit: int) -> Iterator[bytes]:
        try:
            if not self._started and not self._gzip and data:
                self._started = True
                try:
                    out = self._inflater.decompress(data, limit)
                except zlib.error:  # no zlib header: a raw deflate stream
                    self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                    out = self._inflater.decompress(data, limit)
            else:
                out = self._inflater.decompress(data, limit)
            yield out
            while self._inflater.unconsumed_tail:
                yield self._inflater.decompress(self._inflater.unconsumed_tail, limit)
        except zlib.error as exc:
            raise DecodeError(str(exc)) from exc


class _Brotli:
    def __init__(self) -> None:
        self._decompressor = brotli.Decompressor()

    def decode(self, data: bytes, limit: int) -> Iterator[bytes]:
        try:
            piece = self._decompressor.process(data, output_buffer_limit=limit)
            # brotli keeps what did not fit and hands it out on calls with empty input; it
            # has given everything when such a call returns nothing.
            while piece:
                yield piece
                piece = self._decompressor.process(b"", output_buffer_limit=limit)
        except brotli.error as exc:
            raise DecodeError(str(exc)) from exc


_DECODERS: dict[str, Callable[[], _Decoder]] = {
    "gzip": lambda: _Zlib(gzip=True),
    "x-gzip": lambda: _Zlib(gzip=True),  # RFC 9110 §8.4.1.3: the same as gzip
    "deflate": lambda: _Zlib(gzip=False),
    "br": _Brotli,
}
ACCEPT_ENCODING = "gzip, deflate, br"  # what to send: exactly what this module undoes


class Inflater:
    """Decodes one body, chunk by chunk, in pieces of at most ``limit`` bytes."""

    def __init__(self, content_encoding: str | None) -> None:
        codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
        self._decoders: list[_Decoder] = [
            _DECODERS[c]() for c in reversed(codings) if c in _DECODERS
        ]

    def decode(self, data: bytes, limit: int) -> Iterator[bytes]:
        """The decoded bytes of ``data``, lazily, in pieces of at most ``limit`` bytes each
        (brotli: at most ``limit`` or one 32 KiB buffer block, whichever is larger)."""
        yield from self._through(data, self._decoders, limit)

    def _through(self, data: bytes, decoders: list[_Decoder], limit: int) -> Iterator[bytes]:
        if not decoders:
            for start in range(0, len(data), limit):
                yield data[start : start + limit]
            return
        first, rest = decoders[0], decoders[1:]
        for piece in first.decode(data, limit):
            if piece:
                yield from self._through(piece, rest, limit)
