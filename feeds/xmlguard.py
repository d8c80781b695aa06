"""Checks on a feed's raw bytes before feedparser reads them. Pure: bytes in, a verdict out.

- ``entity_problem``: a document type declaration can make an XML parser fetch files or URLs
  (external entities, external parameter entities: "XXE", OWASP XML External Entity
  Prevention Cheat Sheet) or expand a few bytes into gigabytes (nested entities, "billion
  laughs"; one long entity referenced many times, "quadratic blowup"). feedparser 6 does
  neither today (it rewrites the DOCTYPE and its loose parser leaves unknown references as
  text), but that is an accident of its implementation, not a promise; so a document whose
  DTD declares anything but a few short, plain internal entities (``&nbsp;`` → U+00A0) is
  refused before any parser sees the rest. The prolog is read with the standard library's
  expat, which never loads an external DTD or entity unless asked to (we never ask), and
  reading stops at the root element's start tag, so the check costs a prolog, not a
  document. When expat cannot read the prolog (an unknown charset, garbage), the check falls
  back to looking for an ``<!ENTITY`` declaration anywhere in the bytes, in the ASCII-based
  and UTF-16/32 spellings.
- ``neutralize_char_refs``: a numeric character reference to a character XML 1.0 forbids
  (``&#0;``, ``&#xD800;``: XML 1.0 §2.2 and §4.1 "Well-formedness constraint: Legal
  Character") makes expat give up, and feedparser's loose fallback then builds a string
  that cannot even be encoded (a lone surrogate raises ``UnicodeEncodeError`` inside
  feedparser). Such references become U+FFFD, the replacement character, first.

- ``xml_chars``: a string without the characters XML 1.0 cannot carry, for the values that
  later stages store and every output format writes.

What it does not do: parse the feed, or judge its content.
"""

from __future__ import annotations

import re
import xml.parsers.expat
from typing import Final

MAX_ENTITIES: Final = 32  # internal entities a prolog may declare
MAX_ENTITY_CHARS: Final = 8  # replacement text of one: enough for a character or a short name
_DECLARATION = "<!ENTITY"
_SPELLINGS = tuple(
    _DECLARATION.encode(codec)
    for codec in ("ascii", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
)
_CHAR_REF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));")
_REPLACEMENT_REF = b"&#xFFFD;"
# Characters outside XML 1.0's Char production (§2.2): C0 controls but tab/LF/CR,
# surrogates (lone ones reach Python strings from broken encodings), U+FFFE and U+FFFF.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class _Refused(Exception):
    """Raised inside expat's callbacks to stop at the first refused declaration."""


class _RootReached(Exception):
    """Raised at the root element's start tag: the prolog is over."""


def entity_problem(body: bytes) -> str | None:
    """Why ``body``'s entity declarations make it unsafe to parse, or None when they do not."""
    parser = xml.parsers.expat.ParserCreate()
    declared: list[str] = []

    def entity(
        name: str,
        is_parameter: int,
        value: str | None,
        base: str | None,
        system_id: str | None,
        public_id: str | None,
        notation: str | None,
    ) -> None:
        if is_parameter:
            raise _Refused(f"it declares the parameter entity %{name};")
        if value is None:  # SYSTEM or PUBLIC: the replacement text lives elsewhere
            raise _Refused(f"it declares the external entity &{name}; ({system_id or public_id})")
        if "&" in value:  # expat keeps general entity references in the text: nesting
            raise _Refused(f"the entity &{name}; refers to other entities")
        if len(value) > MAX_ENTITY_CHARS:
            raise _Refused(f"the entity &{name}; stands for {len(value)} characters")
        declared.append(name)
        if len(declared) > MAX_ENTITIES:
            raise _Refused(f"it declares more than {MAX_ENTITIES} entities")

    def root(name: str, attributes: object) -> None:
        raise _RootReached

    parser.EntityDeclHandler = entity
    parser.StartElementHandler = root
    try:
        parser.Parse(body, True)
    except _Refused as refused:
        return f"entity declarations refused, never expanded: {refused}"
    except _RootReached:
        return None
    except (xml.parsers.expat.ExpatError, ValueError, LookupError):
        pass  # not readable as XML up to the root: fall back to the byte check below
    if any(spelling in body for spelling in _SPELLINGS):
        return "entity declarations refused, never expanded: the document declares entities"
    return None


def neutralize_char_refs(body: bytes) -> bytes:
    """``body`` with references to characters XML 1.0 forbids replaced by ``&#xFFFD;``."""
    if b"&#" not in body:
        return body

    def replace(match: re.Match[bytes]) -> bytes:
        hexadecimal, decimal = match.groups()
        code = int(hexadecimal, 16) if hexadecimal else int(decimal)
        return match.group(0) if is_xml_char(code) else _REPLACEMENT_REF

    return _CHAR_REF.sub(replace, body)


def is_xml_char(code: int) -> bool:
    """Whether the code point is a ``Char`` of XML 1.0 §2.2."""
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


def xml_chars(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot carry."""
    return _NOT_XML_CHAR.sub("", text)
