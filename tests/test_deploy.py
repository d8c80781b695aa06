"""The deployment files (deploy/, Dockerfile) only run `feeds` command lines the CLI accepts."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from feeds.cli import cli

REPO = Path(__file__).parent.parent
UNITS = sorted((REPO / "deploy" / "systemd").glob("*.service"))


def unit_commands() -> list[tuple[str, list[str]]]:
    found = []
    for unit in UNITS:
        for line in unit.read_text(encoding="utf-8").splitlines():
            if line.startswith("ExecStart=") and "/feeds " in line:
                words = shlex.split(line.removeprefix("ExecStart="))
                # %i is the instance (the port of feeds-web@8001); any port will do here.
                found.append((unit.name, [w.replace("%i", "8001") for w in words[1:]]))
    return found


def compose_commands() -> list[tuple[str, list[str]]]:
    compose = yaml.safe_load((REPO / "deploy" / "compose.yaml").read_text(encoding="utf-8"))
    return [
        (f"compose:{name}", service["command"][1:])
        for name, service in compose["services"].items()
        if service.get("command", [""])[0] == "feeds"
    ]


def dockerfile_command() -> list[tuple[str, list[str]]]:
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    (cmd,) = re.findall(r"^CMD (\[.*\])$", text, flags=re.MULTILINE)
    words = json.loads(cmd)
    assert words[0] == "feeds"
    return [("Dockerfile", words[1:])]


COMMANDS = unit_commands() + compose_commands() + dockerfile_command()


def test_every_role_is_deployed_somewhere() -> None:
    used = {args[0] for _, args in COMMANDS}
    assert used >= {"serve", "worker", "prune", "migrate"}
    assert {"feeds.service", "feeds-web@.service", "feeds-worker@.service"} <= {
        unit.name for unit in UNITS
    }


@pytest.mark.parametrize(("where", "args"), COMMANDS, ids=[where for where, _ in COMMANDS])
def test_deployed_command_lines_parse(where: str, args: list[str]) -> None:
    # --help is eager: click parses every option first (an unknown one is exit 2), then
    # prints help instead of running the command.
    result = CliRunner().invoke(cli, [*args, "--help"])
    assert result.exit_code == 0, f"{where}: feeds {' '.join(args)}: {result.output}"
