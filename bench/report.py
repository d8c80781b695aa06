"""What every benchmark prints about where it ran: the machine, the code, PASS/MISS.

Benchmarks are run as scripts (``python bench/NAME.py``), so this module is imported as
``report`` from beside them.
"""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
from pathlib import Path

import feeds

# The checkout whose ``feeds`` runs, which is not always the one this file is in (an
# editable install of another checkout, PYTHONPATH): "code:" names what was measured.
REPO = Path(feeds.__file__).resolve().parents[1]


def machine() -> str:
    """Python, OS, CPU model and how many CPUs this process may use."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.partition(":")[2].strip()
                break
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.system()} {platform.release()} {platform.machine()}, {cpu}, "
        f"{os.cpu_count()} CPUs ({usable} usable)"
    )


def revision() -> str:
    """The git commit benchmarked, and which paths under ``feeds/`` differ from it."""

    def git(*args: str) -> str:
        run = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True)
        return run.stdout.rstrip("\n")  # not strip(): porcelain lines start with a space

    try:
        commit = git("rev-parse", "--short", "HEAD")
        changed = [line[3:] for line in git("status", "--porcelain", "--", "feeds").splitlines()]
    except OSError:
        return "unknown (no git)"
    if not commit:
        return "unknown (not a git checkout)"
    if not changed:
        return commit
    shown = ", ".join(changed[:3]) + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
    return f"{commit}, with uncommitted changes in {shown}"


def verdict(met: bool) -> str:
    return "PASS" if met else "MISS"
