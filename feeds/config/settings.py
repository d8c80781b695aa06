"""The whole validated configuration: ``Settings``, made of the sections beside it.

What it does: declare the top-level keys (``database``, ``retention_days`` and the sections),
resolve the database URL against the config file's folder, and derive what the pipeline
needs from the settings (the User-Agent, ``Source`` values, problems located in the file).

What it does not do: read the file (``feeds.config.loader``) or check entries against each
other (``feeds.config.checks``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import Field, PrivateAttr, ValidationInfo, field_validator

from feeds import __version__
from feeds.config.problems import Problem, format_loc, format_problems
from feeds.config.service import FetchSettings, SiteSettings, StorySettings, WebSettings
from feeds.config.sources import SourceSettings
from feeds.config.topics import TopicSettings
from feeds.config.values import Frozen, resolve_database_url
from feeds.models import Source


class Settings(Frozen):
    """The whole validated configuration."""

    site: SiteSettings = SiteSettings()
    database: str = "sqlite:///data/feeds.db"
    retention_days: int | None = Field(None, ge=1, le=36500)  # `feeds prune` default age
    fetch: FetchSettings = FetchSettings()
    web: WebSettings = WebSettings()
    stories: StorySettings = StorySettings()
    sources: tuple[SourceSettings, ...] = ()
    topics: tuple[TopicSettings, ...] = ()
    _path: Path | None = PrivateAttr(None)  # the file these settings were read from

    @property
    def path(self) -> Path | None:
        """The config file these settings came from (None when built in code)."""
        return self._path

    def problems(self, found: Sequence[Problem]) -> tuple[str, ...]:
        """Format problems found after loading (by location) as ``FILE:LINE: where: what``."""
        if self._path is None:
            return tuple(f"{format_loc(loc)}: {message}" for loc, message in found)
        return format_problems(self._path, self._path.read_text("utf-8"), found)

    @field_validator("database")
    @classmethod
    def _database_url(cls, value: str, info: ValidationInfo) -> str:
        base_dir = Path((info.context or {}).get("base_dir", "."))
        return resolve_database_url(value, base_dir)

    @property
    def user_agent(self) -> str:
        """The User-Agent sent with every request: names the project and this deployment."""
        return self.fetch.user_agent or f"feeds/{__version__} (+{self.site.base_url})"

    def source_models(self) -> tuple[Source, ...]:
        """The configured sources as pipeline values, with the default interval applied."""
        return tuple(
            Source(
                id=s.id,
                name=s.name,
                url=s.url,
                interval=s.interval or self.fetch.interval,
                topics=s.topics,
                enabled=s.enabled,
                allow_private=s.allow_private,
            )
            for s in self.sources
        )
