"""Bounded decoding of Content-Encoding: every coding round-trips, and no piece is ever
larger than the limit asked for, however much one input chunk inflates."""

from __future__ import annotations

import gzip
import zlib

import brotli
import pytest

from feeds.inflate import DecodeError, Inflater

TEXT = b"<rss>" + b"lupus " * 20_000 + b"</rss>"
BLOCK = 1 << 16  # brotli honours its output limit in buffer blocks (32 KiB and under)


def raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize(
    ("coding", "body"),
    [
        (None, TEXT),
        ("identity", TEXT),
        ("gzip", gzip.compress(TEXT)),
        ("x-gzip", gzip.compress(TEXT)),
        ("deflate", zlib.compress(TEXT)),
        ("deflate", raw_deflate(TEXT)),  # what some servers send as "deflate"
        ("br", brotli.compress(TEXT)),
        ("gzip, br", brotli.compress(gzip.compress(TEXT))),  # applied in order listed
        ("compress", TEXT),  # unknown: passed through for the parser to judge
    ],
)
def test_every_coding_round_trips_in_pieces_no_larger_than_the_limit(
    coding: str | None, body: bytes
) -> None:
    inflater = Inflater(coding)
    pieces = [
        p
        for start in range(0, len(body), 7)
        for p in inflater.decode(body[start : start + 7], 1000)
    ]
    assert b"".join(pieces) == TEXT
    assert max(len(p) for p in pieces) <= BLOCK


@pytest.mark.parametrize("coding", ["gzip", "br"])
def test_one_small_chunk_of_a_bomb_yields_bounded_pieces_lazily(coding: str) -> None:
    zeros = b"\0" * (64 << 20)
    body = gzip.compress(zeros) if coding == "gzip" else brotli.compress(zeros, quality=5)
    pieces = Inflater(coding).decode(body, 4096)
    first = [next(pieces) for _ in range(3)]  # a generator: nothing beyond what is taken
    assert all(0 < len(p) <= BLOCK for p in first)


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br"])
def test_a_corrupt_body_is_a_decode_error(coding: str) -> None:
    with pytest.raises(DecodeError):
        list(Inflater(coding).decode(b"\x1f\x8b not really compressed at all", 1000))
