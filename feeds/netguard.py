"""Which network addresses a fetch may connect to, enforced at the moment of connecting.

A source URL is untrusted input: a public feed can name, or redirect to, an address inside
the deployment's own network (a database port, an admin page, the cloud metadata service at
169.254.169.254) and have feeds fetch it on its behalf (server-side request forgery, OWASP
"SSRF Prevention Cheat Sheet"). So:

- ``blocked_reason`` decides, purely, whether one IP address is off limits: loopback,
  private (RFC 1918, RFC 4193), link-local (RFC 3927, RFC 4291), unspecified (``0.0.0.0``,
  ``::``), multicast, shared (RFC 6598) and every other not globally routable range, also
  when the IPv4 address is wrapped in IPv6 (IPv4-mapped ``::ffff:a.b.c.d``, 6to4 RFC 3056,
  NAT64 RFC 6052).
- ``GuardedBackend`` is the httpcore network backend of a guarded client. For every TCP
  connection (the first request and each redirect hop alike) it resolves the host itself,
  refuses if *any* address the name resolves to is blocked, and then connects to a checked
  address, never to the name again: a second DNS answer (DNS rebinding) cannot swap in an
  internal address between the check and the connection.

What it does not do: choose per source (the fetcher keeps a guarded and an unguarded
client, for sources with ``allow_private: true``), or look at URL strings, which have too
many spellings of one address (``0x7f.1``, ``2130706433``, ``[::ffff:7f00:1]``) to judge.
"""

from __future__ import annotations

import ipaddress
import itertools
import socket
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final

import anyio
import httpcore

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Policy = Callable[[IPAddress], str | None]  # why an address is off limits, or None
FALLBACK_SECONDS: Final = 2.0  # wait on one address before trying the next
# RFC 6052 §2.1: the well-known NAT64 prefix; the IPv4 address is the last 32 bits.
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class BlockedAddress(httpcore.ConnectError):
    """A connection refused because its address is not public; ``fetch`` maps it to
    ``ErrorKind.BLOCKED``."""


def blocked_reason(address: IPAddress) -> str | None:
    """Why a guarded fetch may not connect to ``address`` ("loopback", ...), or None."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return blocked_reason(embedded)
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"  # 169.254.169.254, the cloud metadata service, is one
    if address.is_multicast:
        return "multicast"
    if address.is_private:
        return "private"
    if not address.is_global:
        return "not globally routable"  # shared address space 100.64.0.0/10, reserved ranges
    return None


def interleave(addresses: Sequence[IPAddress]) -> list[IPAddress]:
    """The resolver's order, alternating address families from its first (RFC 8305 §4)."""
    first = addresses[0].version
    same = [a for a in addresses if a.version == first]
    other = [a for a in addresses if a.version != first]
    mixed: list[IPAddress] = []
    for pair in itertools.zip_longest(same, other):
        mixed += [a for a in pair if a is not None]
    return mixed


def check_addresses(
    host: str, addresses: Iterable[IPAddress], policy: Policy = blocked_reason
) -> None:
    """Raise ``BlockedAddress`` when any of the addresses ``host`` resolved to is blocked.

    Every address, not just the first: the connection may fall back to any of them.
    """
    for address in addresses:
        reason = policy(address)
        if reason is not None:
            shown = host if host == str(address) else f"{host} ({address})"
            raise BlockedAddress(
                f"refused to connect to {shown}: a {reason} address "
                "(set allow_private: true on the source to allow it)"
            )


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that connects only to public addresses."""

    def __init__(
        self, inner: httpcore.AsyncNetworkBackend | None = None, policy: Policy = blocked_reason
    ) -> None:
        self._inner = inner or httpcore.AnyIOBackend()
        self._policy = policy

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await _resolve(host, port, timeout)
        check_addresses(host, addresses, self._policy)
        ordered = interleave(addresses)
        failure: httpcore.ConnectError | None = None
        for position, address in enumerate(ordered, 1):
            # Not a race (RFC 8305 §5) but a bounded wait before the next address, so an
            # unreachable IPv6 route does not cost the whole connect timeout.
            last = position == len(ordered)
            wait = timeout if last or timeout is None else min(timeout, FALLBACK_SECONDS)
            try:
                return await self._inner.connect_tcp(
                    str(address), port, wait, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                if last:
                    raise
                failure = httpcore.ConnectError(str(exc))
        raise failure or httpcore.ConnectError(f"{host}: no address to connect to")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedAddress(f"refused to connect to the local socket {path}")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


async def _resolve(host: str, port: int, timeout: float | None) -> list[IPAddress]:
    """The addresses ``host`` resolves to, without duplicates; httpcore errors on failure."""
    try:
        with anyio.fail_after(timeout):
            infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except TimeoutError as exc:
        raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
    except OSError as exc:  # socket.gaierror: fetch.classify_error reports it as "dns"
        raise httpcore.ConnectError(f"{host}: {exc}") from exc
    addresses: dict[IPAddress, None] = {}
    for family, _, _, _, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6):
            # An IPv6 link-local answer carries its zone ("fe80::1%eth0"); it is blocked
            # whatever the zone, so the zone is dropped before parsing.
            addresses[ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])] = None
    if not addresses:
        raise httpcore.ConnectError(f"{host} resolved to no IP address")
    return list(addresses)
