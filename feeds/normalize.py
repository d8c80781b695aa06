"""Turn a parsed entry into a clean, stable ``Article``. Pure: no I/O, no clock.

- Links: absolute, canonical (RFC 3986 §6.2.2 case and percent-encoding normalization via
  w3lib, default port dropped per §6.2.3), tracking parameters and fragment removed.
- Ids: ``Article.id`` is a digest of (source id, entry id) and of nothing volatile, so a
  re-fetched or edited entry keeps its id.
- Dates: UTC; published, else updated, else first seen. A date after the first sighting is
  a publisher's clock or typo, so it is clamped to the first-seen time; comparing with
  first-seen (not "now") keeps the value the same on every later fetch. A date before
  ``DATE_FLOOR`` (year 1, the Unix epoch of a null timestamp) is no date at all.
- HTML: sanitized with nh3 against an allowlist; relative URLs made absolute against the
  entry's ``html_base`` (xml:base, else the feed URL), and URLs that a browser would read as
  a script scheme dropped. Titles, summaries, authors and categories are plain text with
  markup removed, not escaped.
- Hostile sizes and characters: every stored string is stripped of the characters XML 1.0
  cannot carry (NUL and other C0 controls, lone surrogates, U+FFFE/U+FFFF: XML 1.0 §2.2),
  which no output format could then write and PostgreSQL would refuse; titles, author
  names, categories, their counts and URL lengths are capped (``TITLE_MAX`` ...).
- Studies: identifiers (DOIs, PMIDs, trial numbers, …) from every link and text of the
  entry, by ``feeds.identifiers``; ``dois`` repeats the DOIs among them.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urljoin, urlsplit, urlunsplit

import nh3
from w3lib.url import canonicalize_url, url_query_cleaner

from feeds.identifiers import find_studies
from feeds.models import Article, ParsedEntry, ParsedFeed, Source
from feeds.xmlguard import xml_chars

SUMMARY_MAX = 500
TITLE_FALLBACK_MAX = 100
TITLE_MAX = 300  # a headline; 100,000 characters is an attack or a broken feed
NAME_MAX = 200  # one author name or category
AUTHORS_MAX = 20  # author names kept per article
CATEGORIES_MAX = 50  # the feed's own categories kept per article
ENCLOSURES_MAX = 20  # attached media kept per article
# RFC 9110 §4.1 recommends supporting URIs of at least 8000 octets; a longer one is dropped.
URL_MAX = 8000
# The first day after the Unix epoch: earlier dates are a null timestamp (0 = 1970-01-01)
# or a placeholder (year 1), not when a health news item was published.
DATE_FLOOR = datetime(1970, 1, 2, tzinfo=UTC)

# Query parameters that identify a campaign or a click, not the document.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
        "igshid", "mc_cid", "mc_eid", "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id",
        "oly_enc_id", "vero_id", "vero_conv", "rb_clickid", "s_cid", "cmpid", "ncid",
        "sr_share", "spm", "ref_src",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_")
DEFAULT_PORTS = {"http": 80, "https": 443}

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del",
        "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2",
        "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p",
        "pre", "q", "s", "samp", "small", "span", "strong", "sub", "summary", "sup",
        "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "u", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "blockquote": {"cite"},
    "img": {"src", "alt", "title", "width", "height"},
    "q": {"cite"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "time": {"datetime"},
}
URL_ATTRIBUTES = frozenset({"href", "src", "cite"})
URL_SCHEMES = frozenset({"http", "https", "mailto"})

_URL_NOISE = re.compile("[\t\n\r]")
_URL_LEADING = "".join(map(chr, range(0x21))) + "\ufffd"  # C0 controls, space (and a lost one)
_URL_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9][\w.+-]{0,126}/[A-Za-z0-9][\w.+-]{0,126}")
_TAG_LIKE = re.compile(r"<[A-Za-z!/?][^<>]*>")
_BLOCK_TAG = re.compile(
    r"<(?:br|/?(?:p|div|li|ul|ol|h[1-6]|tr|td|th|dt|dd|blockquote|section|article|table))\b",
    re.IGNORECASE,
)


def normalize_entry(
    entry: ParsedEntry, source: Source, feed: ParsedFeed, *, now: datetime, first_seen: datetime
) -> Article:
    """The article for ``entry``; ``first_seen`` is the stored first sighting, else ``now``.

    ``updated`` may legitimately be later than the first sighting (an edit), so it is only
    capped at ``now``.
    """
    base = entry.html_base or entry.link or feed.url
    url = canonical_url(entry.link, feed.url) if entry.link else None
    text = plain_text(entry.summary_html) or plain_text(entry.content_html)
    summary = truncate(text, SUMMARY_MAX)
    title = (
        truncate(plain_text(entry.title), TITLE_MAX)
        or truncate(summary, TITLE_FALLBACK_MAX)
        or url
        or "Untitled"
    )
    updated = plausible_date(entry.updated)
    published = plausible_date(entry.published) or updated or first_seen
    studies = find_studies(
        (entry.link or "", *entry.links, entry.title, entry.summary_html, entry.content_html)
    )
    article = Article(
        id=article_id(source.id, entry.entry_id),
        source_id=source.id,
        entry_id=entry.entry_id,
        url=url,
        title=title,
        summary=summary,
        content_html=sanitize_html(entry.content_html or entry.summary_html, base),
        published=min(published, first_seen),
        updated=min(updated, now) if updated else None,
        first_seen=first_seen,
        authors=_unique(truncate(plain_text(a), NAME_MAX) for a in entry.authors)[:AUTHORS_MAX],
        categories=_unique(truncate(plain_text(c), NAME_MAX) for c in entry.categories)[
            :CATEGORIES_MAX
        ],
        enclosures=tuple(
            replace(e, url=u, type=media_type(e.type))
            for e in entry.enclosures
            if (u := canonical_url(e.url, base, keep_query=True)) is not None
        )[:ENCLOSURES_MAX],
        dois=tuple(s.value for s in studies if s.scheme == "doi"),
        studies=studies,
    )
    return replace(article, content_hash=content_hash(article))


def plausible_date(moment: datetime | None) -> datetime | None:
    """``moment``, or None when it is before ``DATE_FLOOR`` (see the module docstring)."""
    return moment if moment is not None and moment >= DATE_FLOOR else None


def media_type(value: str | None) -> str | None:
    """A ``type/subtype`` MIME type (parameters dropped, RFC 6838 §4.2), or None."""
    found = _MEDIA_TYPE.fullmatch((value or "").split(";", 1)[0].strip())
    return found.group(0).lower() if found else None


def article_id(source_id: str, entry_id: str) -> str:
    """A stable 32-hex-digit id for an entry of a source."""
    return hashlib.sha256(f"{source_id}\n{entry_id}".encode()).hexdigest()[:32]


def content_hash(article: Article) -> str:
    """A digest of everything stored about an article except when it was first seen."""
    payload: list[object] = [
        article.url,
        article.title,
        article.summary,
        article.content_html,
        article.published.isoformat(),
        article.updated.isoformat() if article.updated else None,
        article.authors,
        article.categories,
        [(e.url, e.type, e.length) for e in article.enclosures],
        article.dois,
    ]
    # Ids of the other schemes join the digest only when there are some, so the hash of an
    # article stored before they were extracted stays the same (no mass "updated").
    others = [s.key for s in article.studies if s.scheme != "doi"]
    if others:
        payload.append(others)
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode()).hexdigest()


def canonical_url(url: str, base: str | None = None, *, keep_query: bool = False) -> str | None:
    """Absolute, canonical http(s) URL, or None for anything else (javascript:, mailto:, …)."""
    if len(url) > URL_MAX:
        return None
    try:
        return _canonical(urljoin(base or "", xml_chars(url).strip()), keep_query)
    except ValueError:  # an impossible port or a malformed IPv6 host: not a usable link
        return None


def _canonical(absolute: str, keep_query: bool) -> str | None:
    parts = urlsplit(absolute)
    if parts.scheme.lower() not in DEFAULT_PORTS or not parts.hostname:
        return None
    if not keep_query:
        tracking = [
            name
            for name, _ in parse_qsl(parts.query, keep_blank_values=True)
            if name.lower() in TRACKING_PARAMS or name.lower().startswith(TRACKING_PREFIXES)
        ]
        if tracking:
            absolute = url_query_cleaner(absolute, tracking, remove=True, unique=False)
    canonical = canonicalize_url(absolute, keep_fragments=False)
    parts = urlsplit(canonical)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    netloc = f"[{host}]" if ":" in host else host  # IPv6 literals keep their brackets
    if parts.port and parts.port != DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{parts.port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def sanitize_html(fragment: str, base: str | None) -> str:
    """The fragment with only allowlisted tags/attributes/schemes, URLs made absolute."""
    if not fragment:
        return ""

    def absolutize(_tag: str, attribute: str, value: str) -> str | None:
        if attribute in URL_ATTRIBUTES:
            if _hidden_scheme(value):
                return None  # dropped, not joined to the base as if it were a path
            return urljoin(base or "", value.strip())
        return value

    return nh3.clean(
        xml_chars(fragment),
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer",
        attribute_filter=absolutize,
        strip_comments=True,
    ).strip()


def _hidden_scheme(value: str) -> bool:
    """Whether a URL reads as a non-web scheme the way a browser parses it.

    The WHATWG URL parser strips leading C0 controls and spaces and removes tabs and
    newlines anywhere, so " \x0e jav\tascript:" is "javascript:". nh3 checks the scheme of
    the value as written; this catches what only a browser's reading reveals.
    """
    squeezed = _URL_NOISE.sub("", value).lstrip(_URL_LEADING)
    scheme = _URL_SCHEME.match(squeezed)
    return scheme is not None and scheme.group(1).lower() not in URL_SCHEMES


def plain_text(fragment: str) -> str:
    """Text with every tag removed and entities decoded, whitespace collapsed.

    Decoding can reveal markup that was entity-escaped (``&lt;script&gt;``); it is
    stripped again, a bounded number of times, so no markup survives as text.
    """
    text = _BLOCK_TAG.sub(r" \g<0>", xml_chars(fragment or ""))  # "<p>a</p><p>b</p>": "a b"
    for _ in range(5):
        text = html.unescape(nh3.clean(text, tags=set()))
        if not _TAG_LIKE.search(text):  # "age <5 years" is text; "<script>…" is not
            break
    else:  # markup escaped five levels deep: no honest text looks like this
        text = text.replace("<", "").replace(">", "")
    # Decoding "&#0;" may have brought a forbidden character back. ``split()`` knows the
    # white space ``\s`` does (Py_UNICODE_ISSPACE): the join is ``re.sub(r"\s+", " ")``
    # and ``strip()`` in one step, five times faster on a long body.
    return " ".join(xml_chars(text).split())


def truncate(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.-") + "…"


def _unique(values: object) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for value in values:  # type: ignore[attr-defined]
        if value and value not in seen:
            seen[value] = None
    return tuple(seen)
