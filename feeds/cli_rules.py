"""``feeds tag``, ``retag`` and ``cluster``: the current topic and story rules, tried on a
text or applied again to the stored articles (after the rules changed, or an upgrade).

What it does not do: tag or cluster (``feeds.tagging``, ``feeds.retag``,
``feeds.recluster``: new articles are tagged and clustered by ``feeds update``) or word the
output (``feeds.reporting``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from feeds import reporting
from feeds.cli_common import (
    EXIT_CONFIG,
    config_option,
    fail,
    json_option,
    open_storage,
    settings_from,
)
from feeds.recluster import cluster_stored
from feeds.retag import retag
from feeds.tagging.jsonl import BadLine, tag_json_lines
from feeds.tagging.matcher import Held, TagInput, explain
from feeds.tagging.vocabulary import load_rules


@click.command("tag")
@config_option
@click.option("--jsonl", is_flag=True, help="Read JSON Lines {id, title, summary} on stdin.")
@click.option(
    "--summary",
    default="",
    help="A summary to tag with TEXT as its title (its first sentence weighs more).",
)
@click.argument("text", required=False)
def tag_command(config_path: Path | None, jsonl: bool, summary: str, text: str | None) -> None:
    """Show the topics TEXT is about, and why (or tag JSON Lines from stdin)."""
    if jsonl and (text is not None or summary):
        # Otherwise TEXT would be silently ignored and the command would wait on stdin.
        raise click.UsageError("--jsonl reads stdin: give it no TEXT or --summary")
    settings = settings_from(config_path)
    with open_storage(settings) as storage:
        rules = load_rules(settings, storage)
    if not jsonl:
        if text is None:
            fail("tag: give a TEXT to tag, or --jsonl to read JSON Lines on stdin", EXIT_CONFIG)
        held: dict[str, Held] = {}
        explained = explain(TagInput(title=text, summary=summary), rules, held)
        for line in reporting.tag_lines(explained, held.values()):
            click.echo(line)
        return
    for result in tag_json_lines(sys.stdin, rules):
        if isinstance(result, BadLine):
            fail(f"tag: stdin line {result.number}: {result.reason}", EXIT_CONFIG)
        tagged = reporting.tags_json(result.item_id, result.explained)
        click.echo(json.dumps(tagged, ensure_ascii=False))


@click.command("retag")
@config_option
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@json_option
def retag_command(config_path: Path | None, dry_run: bool, as_json: bool) -> None:
    """Re-apply the current topic rules to every stored article."""
    settings = settings_from(config_path)
    with open_storage(settings) as storage:
        report = retag(settings, storage, dry_run=dry_run)
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False))
        return
    for line in reporting.retag_lines(report, dry_run):
        click.echo(line)


@click.command("cluster")
@config_option
@json_option
@click.option(
    "--rebuild",
    is_flag=True,
    help="Cluster every stored article again under the current rules (stories the rules "
    "leave whole keep their ids).",
)
def cluster_command(config_path: Path | None, as_json: bool, rebuild: bool) -> None:
    """Put every stored article that has no story yet into a story cluster (the backfill
    after upgrading; new articles are clustered by ``feeds update``)."""
    settings = settings_from(config_path)
    with open_storage(settings) as storage:
        vocabulary = load_rules(settings, storage).vocabulary
        policy = settings.stories.policy(vocabulary)
        clustered = cluster_stored(storage, policy, rebuild=rebuild)
    if as_json:
        click.echo(json.dumps({"clustered": clustered}))
        return
    click.echo(f"{clustered} articles clustered into stories")
