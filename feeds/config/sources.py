"""One entry of the config's ``sources:`` list.

What it does: declare a source's keys and resolve its URL (a relative file path is relative
to the config file's folder, handed in as validation context ``base_dir``).

What it does not do: check ids for uniqueness or topics for existence (``feeds.config.checks``
sees the whole file), or apply the default interval (``Settings.source_models``).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, ValidationInfo, field_validator

from feeds.config.values import Duration, Frozen, Slug, resolve_source_url


class SourceSettings(Frozen):
    """One entry of ``sources:``."""

    id: Slug
    name: str = Field(min_length=1)
    url: str
    interval: Duration | None = None
    topics: tuple[Slug, ...] = ()
    enabled: bool = True
    allow_private: bool = False  # may fetch from loopback, private and link-local addresses

    @field_validator("url")
    @classmethod
    def _url_or_path(cls, value: str, info: ValidationInfo) -> str:
        base_dir = Path((info.context or {}).get("base_dir", "."))
        return resolve_source_url(value, base_dir)
