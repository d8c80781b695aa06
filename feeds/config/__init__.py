"""Load ``config.yaml`` into frozen, validated settings, reporting every problem with its line.

What it does: parse YAML, validate it with pydantic (types, ranges, URLs, durations), run the
checks that span several entries (unique ids, known topic slugs), resolve relative paths
against the config file's folder, and apply ``FEEDS_DATABASE_URL``. On any problem it raises
one ``ConfigError`` listing all of them as ``FILE:LINE: location: message``.

What it does not do: read the database or the network, or compile topic rules (the tagging
package does that from ``Settings.topics``).

The package's modules, each importable on its own:

- ``values``: durations, slugs, phrases, MeSH IDs; source and database URL resolution
- ``service``: the ``site:``, ``fetch:``, ``web:`` and ``stories:`` sections
- ``sources`` / ``topics``: one entry of ``sources:`` / ``topics:``
- ``settings``: ``Settings``, the whole configuration
- ``checks``: checks that span entries, on the raw data
- ``problems``: locations to ``FILE:LINE: location: message``
- ``loader``: read the file and the environment, validate, raise one ``ConfigError``

Everything callers use is re-exported here: ``from feeds.config import Settings``.
"""

from __future__ import annotations

from feeds.config.loader import (
    CONFIG_ENV,
    DATABASE_ENV,
    DEFAULT_CONFIG,
    default_config_path,
    load_settings,
    parse_settings,
    resolve_env_database,
)
from feeds.config.problems import format_problems
from feeds.config.service import (
    FetchSettings,
    RateLimitSettings,
    SiteSettings,
    StorySettings,
    WebSettings,
)
from feeds.config.settings import Settings
from feeds.config.sources import SourceSettings
from feeds.config.topics import RESERVED_SLUGS, TopicSettings
from feeds.config.values import (
    Duration,
    MeshUI,
    Phrase,
    Slug,
    parse_duration,
    resolve_database_url,
    resolve_source_url,
)

__all__ = [
    "CONFIG_ENV",
    "DATABASE_ENV",
    "DEFAULT_CONFIG",
    "RESERVED_SLUGS",
    "Duration",
    "FetchSettings",
    "MeshUI",
    "Phrase",
    "RateLimitSettings",
    "Settings",
    "SiteSettings",
    "Slug",
    "SourceSettings",
    "StorySettings",
    "TopicSettings",
    "WebSettings",
    "default_config_path",
    "format_problems",
    "load_settings",
    "parse_duration",
    "parse_settings",
    "resolve_database_url",
    "resolve_env_database",
    "resolve_source_url",
]
