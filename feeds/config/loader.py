"""Read ``config.yaml`` (or ``$FEEDS_CONFIG``) into ``Settings``, or one ``ConfigError`` that
lists every problem as ``FILE:LINE: location: message``.

What it does: read and parse the YAML, apply ``FEEDS_DATABASE_URL``, validate with pydantic
(relative paths resolve against the config file's folder), run the cross-entry checks, and
report all problems of one file in one pass.

What it does not do: declare the sections (``feeds.config.settings`` and the modules beside
it), read the database or the network, or compile topic rules (the tagging package does).
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from pydantic import ValidationError

from feeds.config.checks import cross_checks, duplicate_keys
from feeds.config.problems import Problem, document_lines, format_at_lines, message
from feeds.config.settings import Settings
from feeds.config.values import resolve_database_url
from feeds.errors import ConfigError

CONFIG_ENV = "FEEDS_CONFIG"
DATABASE_ENV = "FEEDS_DATABASE_URL"
DEFAULT_CONFIG = "config.yaml"


def default_config_path() -> Path:
    """``$FEEDS_CONFIG`` if set, else ``./config.yaml``."""
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)


def load_settings(path: Path | None = None) -> Settings:
    """Read, validate and resolve the config file; raise ``ConfigError`` with every problem."""
    path = path or default_config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    return parse_settings(text, path)


def parse_settings(text: str, path: Path) -> Settings:
    """Validate config ``text`` that was read from ``path``."""
    name = str(path)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        if isinstance(exc, yaml.reader.ReaderError):  # a character YAML refuses: no mark
            line = text.count("\n", 0, exc.position) + 1
            problem = f"unacceptable character #x{exc.character:04x}: {exc.reason}"
        raise ConfigError(
            f"{name} is not valid YAML", (f"{name}:{line}: yaml: {problem}",)
        ) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{name}: the top level must be a mapping", (f"{name}:1: not a mapping",))
    lines = document_lines(root)
    env_database = os.environ.get(DATABASE_ENV)
    if env_database:
        data = {**data, "database": resolve_env_database(env_database)}

    problems: list[Problem] = []
    settings: Settings | None = None
    try:
        settings = Settings.model_validate(data, context={"base_dir": path.resolve().parent})
    except ValidationError as exc:
        problems.extend((tuple(err["loc"]), message(err)) for err in exc.errors())
    problems.extend(cross_checks(data))
    problems.extend(duplicate_keys(root))
    from_env: tuple[str, ...] = ()
    if env_database:  # its problems are the environment's, not the file's `database:` line
        from_env = tuple(f"{DATABASE_ENV}: {m}" for loc, m in problems if loc == ("database",))
        problems = [p for p in problems if p[0] != ("database",)]
    if problems or from_env:
        formatted = from_env + format_at_lines(name, lines, problems)
        count = len(formatted)
        raise ConfigError(f"{name} has {count} problem{'s' if count != 1 else ''}", formatted)
    assert settings is not None
    settings._path = path
    return settings


def resolve_env_database(value: str) -> str:
    """``FEEDS_DATABASE_URL``: a relative SQLite path is relative to the working directory."""
    try:
        return resolve_database_url(value, Path.cwd())
    except ValueError:
        return value  # reported by validation, with the same message as in the file
