"""What RFC 4287 requires of an Atom feed document, checked on the XML itself.

feedparser forgives missing elements, so a feed it reads without ``bozo`` can still lack
what stricter readers need; these checks read the tree the way a validator does.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

ATOM = "{http://www.w3.org/2005/Atom}"


def atom_entries(document: bytes) -> list[ET.Element]:
    """The entries of ``document``, after asserting the elements RFC 4287 requires."""
    root = ET.fromstring(document)
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):  # §4.1.1: atom:feed MUST contain exactly one
        assert len(root.findall(f"{ATOM}{name}")) == 1, name
    feed_author = root.find(f"{ATOM}author") is not None
    entries = root.findall(f"{ATOM}entry")
    for entry in entries:
        for name in ("id", "title", "updated"):  # §4.1.2
            assert len(entry.findall(f"{ATOM}{name}")) == 1, name
        # §4.1.1: every entry needs an author, its own or the feed's.
        assert feed_author or entry.find(f"{ATOM}author") is not None
        # §4.1.1.1: an entry with no alternate link MUST have atom:content.
        assert entry.find(f"{ATOM}content") is not None or any(
            link.get("rel", "alternate") == "alternate" for link in entry.findall(f"{ATOM}link")
        )
    ids = [entry.findtext(f"{ATOM}id") for entry in entries]
    assert len(ids) == len(set(ids))  # §4.2.6: an entry's id is its identity
    return entries
