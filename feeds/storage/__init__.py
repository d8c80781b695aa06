"""Storage: the only package that speaks SQL.

``Storage`` (in ``database``) is the interface; ``schema`` holds the tables, ``engine`` the
per-dialect connection settings, ``migrations`` the Alembic revisions.
"""

from feeds.storage.database import Storage

__all__ = ["Storage"]
