"""Text folding for matching: one canonical form for text and terms alike.

``fold`` applies Unicode NFKC, case folding, and makes every hyphen and dash a space (so
"CAR-T", "CAR T", "CAR‑T" with a non-breaking hyphen and "CAR–T" are the same), maps typographic
apostrophes to ``'``, and collapses runs of white space. ``fold_exact`` does the same without
case folding, for acronyms. Offsets reported by the matcher are positions in folded text.
"""

from __future__ import annotations

import re
import unicodedata

# Hyphen-minus, soft hyphen, hyphen, non-breaking hyphen, figure dash, en dash, em dash,
# horizontal bar, minus sign, small and full-width hyphen-minus.
_DASHES = "-\u00ad\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d"
_TABLE = str.maketrans({**dict.fromkeys(_DASHES, " "), "\u2019": "'", "\u2018": "'"})
_NOT_WORD = re.compile(r"[\W_]")  # exactly the characters for which str.isalnum() is false
_ASCII_NOT_WORD = {code: " " for code in range(128) if not chr(code).isalnum()}


def fold_exact(text: str) -> str:
    """NFKC, dashes to spaces, one space between words; case kept."""
    # ``split()`` and the ``\s`` of a str pattern know the same white space (CPython's
    # Py_UNICODE_ISSPACE), so the join is the regex substitution and the strip in one step.
    if text.isascii():  # most text: NFKC leaves ASCII alone, and "-" is its only dash
        return " ".join(text.replace("-", " ").split())
    return " ".join(unicodedata.normalize("NFKC", text).translate(_TABLE).split())


def fold(text: str) -> str:
    """``fold_exact`` and case folding: the form terms are matched in."""
    return fold_exact(text).casefold()


def word_form(text: str) -> str:
    """``text`` with every character that is not a letter or digit replaced by a space.

    One character for one, so offsets are unchanged. Automaton keys are stored in this form
    padded with spaces (" lupus "), and text is scanned in this form padded likewise: a
    hit is then whole words by construction, and no time is spent on "ion" inside
    "infection" — which matters with a quarter of a million MeSH terms.
    """
    if text.isascii():  # a table lookup per character, several times faster than the regex
        return text.translate(_ASCII_NOT_WORD)
    return _NOT_WORD.sub(" ", text)


def is_boundary(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is whole words: no letter or digit touches either side."""
    return (start == 0 or not text[start - 1].isalnum()) and (
        end == len(text) or not text[end].isalnum()
    )


def inflections(folded_term: str) -> tuple[str, ...]:
    """The term with its last word in singular and plural (simple English rules).

    Only the last word is inflected: in English noun phrases the head noun comes last
    ("CAR T cell" / "CAR T cells", "chimeric antigen receptor(s)"). Words shorter than four
    letters and words that are not purely alphabetic are left alone, so acronyms and drug
    codes stay exact.
    """
    head, _, last = folded_term.rpartition(" ")
    prefix = f"{head} " if head else ""
    if len(last) < 4 or not last.isalpha():
        return (folded_term,)
    forms = {last}
    if last.endswith(("us", "is", "ss", "as", "os")):
        pass  # lupus, nephritis, sclerosis, illness: Latin/Greek or mass nouns, no -s form
    elif last.endswith("ies"):
        forms.add(last[:-3] + "y")  # therapies -> therapy
    elif last.endswith(("sses", "xes", "zes", "ches", "shes")):
        forms.add(last[:-2])  # boxes -> box
    elif last.endswith("es"):
        pass  # diabetes, herpes, rabies: singular words that look plural
    elif last.endswith("s"):
        forms.add(last[:-1])  # cells -> cell
    elif last.endswith("y") and last[-2] not in "aeiou":
        forms.add(last[:-1] + "ies")  # therapy -> therapies
    elif last.endswith(("x", "z", "ch", "sh")):
        forms.add(last + "es")
    else:
        forms.add(last + "s")
    return tuple(sorted(prefix + form for form in forms))
