"""Response headers every answer carries: security headers and CORS, decided in one place.

What it does: ``HeaderPolicy.for_response(path, media_type)`` gives the headers a response
needs besides its own (the same list for a cached answer, built once when it is stored, and
for any other response, added by ``HeaderMiddleware``), and the middleware answers CORS
preflight requests. What it does not do: caching headers (``feeds.web.http``) or rate limits.

- ``X-Content-Type-Options: nosniff`` on everything (feeds, JSON, text, pages): a browser
  must not guess HTML out of a feed whose items quote hostile markup.
- HTML pages: a strict ``Content-Security-Policy`` (``default-src 'none'``; the one inline
  ``<style>`` and ``<script>`` of ``base.html`` allowed by their SHA-256, CSP Level 3 §8.4;
  the e-mail digest needs inline ``style=`` attributes, which hashes cannot allow without
  ``'unsafe-hashes'``, and has no script at all) and ``Referrer-Policy``.
- CORS (Fetch standard §3.2): with ``web.cors_origins: ["*"]`` (the default) the answer does
  not depend on the request's ``Origin``, so ``Access-Control-Allow-Origin: *`` is part of
  every answer and no ``Vary: Origin`` is needed; with a list of origins the middleware
  echoes an allowed ``Origin`` and every answer varies on it. Credentials are never allowed.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from feeds.web.cache import RawHeaders

EXPOSED = "ETag, Last-Modified, Link"  # response headers scripts on partner sites may read
REFERRER_POLICY = "strict-origin-when-cross-origin"
# Shared by every HTML page: nothing may load, frame us, post forms or change the base URL.
_CSP_BASE = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
DIGEST_CSP = f"{_CSP_BASE}; style-src 'unsafe-inline'"


def inline_hashes(template: Path, tag: str) -> tuple[str, ...]:
    """CSP source expressions for the inline ``<tag>`` elements of a template (static text)."""
    text = template.read_text("utf-8")
    blocks = re.findall(rf"<{tag}>(.*?)</{tag}>", text, flags=re.DOTALL)
    return tuple(
        "'sha256-" + base64.b64encode(hashlib.sha256(b.encode()).digest()).decode() + "'"
        for b in blocks
    )


def page_csp(base_template: Path) -> str:
    """The pages' policy: only the base template's own inline style and script may run."""
    styles = " ".join(inline_hashes(base_template, "style"))
    scripts = " ".join(inline_hashes(base_template, "script"))
    return f"{_CSP_BASE}; style-src {styles}; script-src {scripts}"


@dataclass(frozen=True, slots=True)
class HeaderPolicy:
    """Which extra headers a response gets, by path and media type."""

    page_csp: str  # Content-Security-Policy of HTML pages
    cors_origins: tuple[str, ...]  # web.cors_origins

    @property
    def any_origin(self) -> bool:
        return "*" in self.cors_origins

    def for_response(self, path: str, media_type: str | None) -> RawHeaders:
        """The headers to add to a response of ``media_type`` at ``path``."""
        headers: RawHeaders = [(b"x-content-type-options", b"nosniff")]
        if media_type is not None and media_type.startswith("text/html"):
            csp = DIGEST_CSP if path.startswith("/digests/") else self.page_csp
            headers.append((b"content-security-policy", csp.encode()))
            headers.append((b"referrer-policy", REFERRER_POLICY.encode()))
        if self.any_origin:
            headers.append((b"access-control-allow-origin", b"*"))
            headers.append((b"access-control-expose-headers", EXPOSED.encode()))
        return headers

    def vary(self) -> str:
        """The Vary value of cached answers (RFC 9110 §12.5.5)."""
        return "Accept-Encoding" if self.any_origin else "Accept-Encoding, Origin"


class HeaderMiddleware:
    """Adds ``HeaderPolicy`` headers a response lacks; answers CORS preflights.

    Cached answers already carry them (built once), so for those it only checks names."""

    def __init__(self, app: ASGIApp, policy: HeaderPolicy) -> None:
        self.app = app
        self.policy = policy
        # Preflight answers and origin checks are Starlette's (allowed methods GET, HEAD).
        self._cors = CORSMiddleware(
            app,
            allow_origins=list(policy.cors_origins),
            allow_methods=["GET", "HEAD"],
            expose_headers=[h.strip() for h in EXPOSED.split(",")],
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_headers = Headers(scope=scope)
        origin = request_headers.get("origin")
        if (
            origin is not None
            and scope["method"] == "OPTIONS"
            and "access-control-request-method" in request_headers
        ):
            await self._cors.preflight_response(request_headers)(scope, receive, send)
            return
        path = scope["path"]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._complete(message, path, origin)
            await send(message)

        await self.app(scope, receive, sending)

    def _complete(self, message: Message, path: str, origin: str | None) -> None:
        raw: RawHeaders = list(message.get("headers", []))
        names = {name.lower() for name, _ in raw}
        content_type = next((v.decode("latin-1") for n, v in raw if n == b"content-type"), None)
        extra = [h for h in self.policy.for_response(path, content_type) if h[0] not in names]
        if not self.policy.any_origin and origin is not None:
            if self._cors.is_allowed_origin(origin):
                extra.append((b"access-control-allow-origin", origin.encode("latin-1")))
                extra.append((b"access-control-expose-headers", EXPOSED.encode()))
            if b"vary" not in names:
                extra.append((b"vary", b"Origin"))
        if extra:
            message["headers"] = raw + extra  # a new list: cached answers' lists stay intact
