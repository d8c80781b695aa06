"""Article-study queries: write an article's study ids, read them back, filter on them.

Functions take an open SQLAlchemy connection; ``feeds.storage.Storage`` owns transactions.
Ids are stored as ``StudyId.key`` strings (``doi:10.1038/…``) and read back through
``feeds.identifiers.from_key``; a stored key that is no longer canonical (an extractor
change) is skipped rather than shown wrong.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import ColumnElement, Connection, delete, insert, select

from feeds.identifiers import from_key
from feeds.models import StudyId
from feeds.storage.schema import article_studies, articles

_CHUNK = 500  # ids per IN (...) list: well under SQLite's bound-parameter limit


def replace(connection: Connection, studies: Mapping[str, Sequence[StudyId]]) -> None:
    """Make each article's stored study ids exactly ``studies[article_id]``."""
    ids = list(studies)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        connection.execute(delete(article_studies).where(article_studies.c.article_id.in_(chunk)))
    rows = [
        {"article_id": article_id, "study": study.key, "position": position}
        for article_id, found in studies.items()
        for position, study in enumerate(found)
    ]
    if rows:
        connection.execute(insert(article_studies), rows)


def for_articles(connection: Connection, ids: Iterable[str]) -> dict[str, tuple[StudyId, ...]]:
    """The stored study ids of each article in ``ids``, in order (none: absent)."""
    wanted = list(ids)
    found: dict[str, list[StudyId]] = {}
    for start in range(0, len(wanted), _CHUNK):
        query = (
            select(article_studies.c.article_id, article_studies.c.study)
            .where(article_studies.c.article_id.in_(wanted[start : start + _CHUNK]))
            .order_by(article_studies.c.article_id, article_studies.c.position)
        )
        for article_id, key in connection.execute(query):
            if (study := from_key(key)) is not None:
                found.setdefault(article_id, []).append(study)
    return {key: tuple(value) for key, value in found.items()}


def citing(keys: Sequence[ColumnElement[str]]) -> ColumnElement[bool]:
    """The article cites one of the study keys bound as ``keys``.

    An ``IN (subquery)`` rather than ``EXISTS``: a study is cited by few articles, so the
    planner can start from the study index instead of testing every article.
    """
    return articles.c.id.in_(
        select(article_studies.c.article_id).where(article_studies.c.study.in_(keys))
    )
