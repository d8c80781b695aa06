"""Read NLM's MeSH ASCII descriptor file and answer tree and term questions about it.

What it does:

- ``read_descriptors`` streams the descriptors (``RECTYPE = D`` records) out of NLM's
  ``d20XX.bin`` ASCII file, plain or gzip-compressed (detected by content, not by file name),
  one record in memory at a time. It keeps the four fields tagging needs (UI, MH, ENTRY and
  PRINT ENTRY terms, MN tree numbers) and ignores every other field. A descriptor record
  without UI or MH, with a UI that is not D and 6 or 9 digits or with one an earlier record
  already had, and a file with no descriptor at all, are errors naming the file and the
  record's ``*NEWRECORD`` line: a cut-off or wrong file must not import as less than it is.
- ``narrower_uis`` expands root descriptors to everything below them in the MeSH trees.
- ``descriptor_terms`` lists the strings a matcher should look for: heading, entry terms and
  the natural-order forms of MeSH's inverted terms ("Lupus Erythematosus, Systemic" is also
  offered as "Systemic Lupus Erythematosus").

What it does not do: download MeSH, read the XML edition, the qualifier (``q20XX.bin``) or
supplementary-concept (``c20XX.bin``) files (their records are skipped, so such a file is
refused as having no descriptors), store anything, or match text.
"""

from __future__ import annotations

import gzip
import io
import re
import zlib
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from feeds.errors import FeedsError

_GZIP_MAGIC = b"\x1f\x8b"
_NEW_RECORD = "*NEWRECORD"
# NLM's longest lines (scope notes, chemical names) are a few kilobytes. A longer "line" means
# a binary or newline-free file; refusing it keeps memory bounded whatever the input is.
_MAX_LINE_BYTES = 1 << 20
# Keys whose values are entry terms. In NLM's full file both may carry |-separated attributes.
_ENTRY_KEYS = frozenset({"ENTRY", "PRINT ENTRY"})

# "Head, Modifier" with nothing but letters, digits, spaces, hyphens, apostrophes and periods
# on either side of the one comma. See descriptor_terms for why each exclusion exists.
_INVERTED = re.compile(r"([\w '.-]+), ([\w '.-]+)")
# The form of a descriptor UI, as topics' mesh: lists check it (feeds.config.values.MeshUI).
_DESCRIPTOR_UI = re.compile(r"D\d{6}(\d{3})?")


class MeshFormatError(FeedsError):
    """The file is not a readable MeSH ASCII descriptor file."""

    stage = "mesh"


@dataclass(frozen=True, slots=True)
class Descriptor:
    """One MeSH descriptor, reduced to what topic tagging needs."""

    ui: str  # descriptor unique identifier (UI), e.g. D008180
    heading: str  # main heading (MH), e.g. "Lupus Erythematosus, Systemic"
    entry_terms: tuple[str, ...]  # ENTRY and PRINT ENTRY terms in file order, deduplicated, no MH
    tree_numbers: tuple[str, ...]  # MN values, e.g. C17.300.480.680; empty for some descriptors


class _RecordFields:
    """The fields of the record being read. Mutable because a record arrives line by line."""

    __slots__ = ("entries", "heading", "line", "rectype", "trees", "ui")

    def __init__(self, line: int) -> None:
        self.line = line  # line number of the record's *NEWRECORD, for messages
        self.rectype: str | None = None
        self.ui: str | None = None
        self.heading: str | None = None
        self.entries: list[str] = []
        self.trees: list[str] = []

    def add(self, key: str, value: str) -> None:
        # First RECTYPE/UI/MH wins: NLM writes each once, and a stray repeat must not silently
        # rename a descriptor that other records' tree numbers already point at.
        if key == "MN":
            if value:
                self.trees.append(value)
        elif key in _ENTRY_KEYS:
            term = value.partition("|")[0].strip()
            if term:
                self.entries.append(term)
        elif key == "UI":
            self.ui = self.ui or value or None
        elif key == "MH":
            self.heading = self.heading or value or None
        elif key == "RECTYPE":
            self.rectype = self.rectype or value or None

    def descriptor(self, path: Path) -> Descriptor | None:
        """The finished descriptor, or None for a record of another type; MeshFormatError
        for a descriptor record that lacks its UI or heading or has a malformed UI."""
        # A record without RECTYPE is taken as a descriptor: only the other MeSH files
        # (qualifiers Q, supplementary concepts C) say something else, and they always say it.
        if self.rectype not in (None, "D"):
            return None
        where = f"{path}: line {self.line}"
        # NLM writes UI last, so a file cut off mid-record most often ends in one without it.
        if not self.ui:
            raise MeshFormatError(f"{where}: descriptor record without a UI line (file cut off?)")
        if not _DESCRIPTOR_UI.fullmatch(self.ui):
            raise MeshFormatError(
                f"{where}: invalid descriptor UI {self.ui!r} (expected D and 6 or 9 digits)"
            )
        if not self.heading:
            raise MeshFormatError(f"{where}: descriptor record without an MH line")
        heading = self.heading
        entries = tuple(term for term in dict.fromkeys(self.entries) if term != heading)
        return Descriptor(
            ui=self.ui,
            heading=heading,
            entry_terms=entries,
            tree_numbers=tuple(dict.fromkeys(self.trees)),
        )


def read_descriptors(path: Path) -> Iterator[Descriptor]:
    """Yield the descriptors of a MeSH ASCII file (``d20XX.bin`` or ``d20XX.bin.gz``) in order.

    Streams: only the current record (and the UIs seen so far, to refuse a repeat) is held
    in memory. Records of another type are skipped. Raises MeshFormatError (with the line
    number) when the file cannot be read or is not a MeSH ASCII file (its first non-blank
    line must be *NEWRECORD), when a descriptor record is incomplete or repeats a UI, and at
    the end when the file held no descriptor.
    """
    record: _RecordFields | None = None
    seen: dict[str, int] = {}  # UI -> line of the record that gave it
    for number, line in _numbered_lines(path):
        stripped = line.strip()
        if stripped == _NEW_RECORD:
            if record is not None and (descriptor := _finish(record, path, seen)) is not None:
                yield descriptor
            record = _RecordFields(number)
        elif not stripped:
            continue
        elif record is None:
            raise MeshFormatError(
                f"{path}: line {number}: not a MeSH ASCII descriptor file: expected "
                f"{_NEW_RECORD!r}, found {_preview(stripped)!r}"
            )
        else:
            # Lines without "=" carry nothing we use; NLM's format has none, so skip them
            # rather than fail a 30,000-record import on one odd line.
            key, sep, value = stripped.partition("=")
            if sep:
                record.add(key.strip(), value.strip())
    if record is None:
        raise MeshFormatError(f"{path}: no {_NEW_RECORD!r} line: empty or not a MeSH ASCII file")
    if (descriptor := _finish(record, path, seen)) is not None:
        yield descriptor
    if not seen:
        raise MeshFormatError(f"no MeSH descriptors in {path}: is it NLM's ASCII d20XX.bin?")


def _finish(record: _RecordFields, path: Path, seen: dict[str, int]) -> Descriptor | None:
    """The record's descriptor, noted in ``seen``; MeshFormatError if its UI came before."""
    descriptor = record.descriptor(path)
    if descriptor is None:
        return None
    if (first := seen.setdefault(descriptor.ui, record.line)) != record.line:
        # Storing would fail on the UNIQUE constraint with no line to look at.
        raise MeshFormatError(
            f"{path}: line {record.line}: descriptor UI {descriptor.ui} was already given "
            f"at line {first}"
        )
    return descriptor


def _numbered_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, decoded line without its line break), from a plain or gzip file."""
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise MeshFormatError(f"{path}: cannot open: {exc.strerror or exc}") from exc
    with raw:
        # peek, not read+seek: works on pipes too, and leaves the magic bytes in the stream.
        compressed = raw.peek(2)[:2] == _GZIP_MAGIC
        stream: io.BufferedIOBase = gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw
        number = 0
        while True:
            number += 1
            try:
                data = stream.readline(_MAX_LINE_BYTES + 1)
            except (OSError, EOFError, zlib.error) as exc:
                # A truncated or corrupt gzip stream surfaces here (BadGzipFile is an OSError).
                raise MeshFormatError(f"{path}: line {number}: cannot read: {exc}") from exc
            if not data:
                return
            if len(data) > _MAX_LINE_BYTES:
                raise MeshFormatError(
                    f"{path}: line {number}: longer than {_MAX_LINE_BYTES} bytes: "
                    "not a MeSH ASCII descriptor file"
                )
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                # NLM's file is UTF-8, but a copy re-saved by a legacy tool may hold a Latin-1
                # line; decoding that one line as Latin-1 keeps the rest of the import going.
                text = data.decode("latin-1")
            if number == 1:
                text = text.removeprefix("\ufeff")
            yield number, text.rstrip("\r\n")


def _preview(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


def narrower_uis(descriptors: Iterable[Descriptor], roots: Iterable[str]) -> frozenset[str]:
    """UIs of the roots and of every descriptor below any tree number of a root.

    A one-off shortcut for ``MeshTree(descriptors).narrower(roots)``; build a ``MeshTree``
    once when asking about several sets of roots.
    """
    return MeshTree(descriptors).narrower(roots)


class MeshTree:
    """The MeSH tree as a sorted index of tree numbers, built once, queried many times.

    "Below" means a tree number starting with the root's tree number plus "." — so C20.111
    covers C20.111.590 but not C20.1110. A descriptor sits in several trees; being below
    any one root tree number is enough. Each subtree is a contiguous range of the sorted
    index, found with bisect: building is O(n log n), a query O(log n + subtree size).
    """

    def __init__(self, descriptors: Iterable[Descriptor]) -> None:
        pairs: list[tuple[str, str]] = []  # (tree number, UI)
        self._trees: dict[str, tuple[str, ...]] = {}
        for descriptor in descriptors:
            self._trees[descriptor.ui] = descriptor.tree_numbers
            pairs.extend((tree, descriptor.ui) for tree in descriptor.tree_numbers)
        pairs.sort()
        self._keys = [tree for tree, _ in pairs]
        self._uis = [ui for _, ui in pairs]

    def narrower(self, roots: Iterable[str]) -> frozenset[str]:
        """The roots and everything below them. Roots absent from the tree are left out, so
        ``root in result`` tells whether a UI is known; a root without tree numbers yields
        only itself."""
        if isinstance(roots, str):
            # A lone UI string would otherwise be iterated as characters and match nothing.
            raise TypeError("roots must be an iterable of descriptor UIs, not a single string")
        result: set[str] = set()
        for root in roots:
            if root not in self._trees:
                continue
            result.add(root)
            for tree in self._trees[root]:
                prefix = tree + "."
                index = bisect_left(self._keys, prefix)
                while index < len(self._keys) and self._keys[index].startswith(prefix):
                    result.add(self._uis[index])
                    index += 1
        return frozenset(result)


def descriptor_terms(descriptor: Descriptor) -> tuple[str, ...]:
    """Heading and entry terms, then the natural-order forms of the inverted ones.

    MeSH writes many terms inverted: "Head, Modifier". The natural form "Modifier Head" is
    added when all of these hold (each rule was checked against MeSH 2024 by counting how
    often the natural form is itself one of the descriptor's terms):

    - exactly one comma, followed by a space, with text on both sides. Two or more commas
      ("Lymphoma, Non-Hodgkin, Familial") leave no single right order;
    - nothing but letters, digits, spaces, hyphens, apostrophes and periods. Brackets, "+",
      ":", "/", "&" and the like mark chemical, formula or list names where the comma is part
      of the name ("4-(((2-Amino-3,5-dibromophenyl)methyl)amino)cyclohexanol"); MeSH confirms
      fewer than 1 in 5 of their reorderings;
    - the modifier does not end in " as Topic": "Clinical Trials, Veterinary as Topic" would
      become "Veterinary as Topic Clinical Trials", which MeSH never confirms.

    For 95% of the terms this rule reorders, MeSH 2024 lists the natural form itself. The rest
    are mostly harmless phrases no text contains ("Aged, 80 and over" gives "80 and over
    Aged"), which cost a few extra matcher terms, not false matches.

    Originals come first, so on a case-insensitive clash MeSH's own spelling wins over a
    generated one. Duplicates (compared case-insensitively) keep their first spelling.
    """
    originals = (descriptor.heading, *descriptor.entry_terms)
    natural = (form for term in originals if (form := _natural_order(term)) is not None)
    seen: set[str] = set()
    terms: list[str] = []
    for term in (*originals, *natural):
        key = term.casefold()
        if key not in seen:
            seen.add(key)
            terms.append(term)
    return tuple(terms)


def _natural_order(term: str) -> str | None:
    match = _INVERTED.fullmatch(term)
    if match is None:
        return None
    head, modifier = match.group(1).strip(), match.group(2).strip()
    if not head or not modifier or modifier.endswith(" as Topic"):
        return None
    return f"{modifier} {head}"
