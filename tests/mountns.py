"""A shell in a private user + mount namespace, to make a file read-only or a disk full for real.

``chmod`` cannot make a file read-only for root (and CI often runs as root), and filling a
real disk would hurt everyone else on the machine. A mount namespace of our own
(``unshare --user --map-root-user --mount``, no privilege needed where unprivileged user
namespaces are enabled, as on current Debian and Ubuntu) gives both without side effects:

- a read-only file: a bind mount of the file over itself, remounted ``ro`` (the kernel
  answers ``EROFS`` to any write, whoever asks);
- a full disk: a small ``tmpfs`` mounted over the database's folder, filled with a ballast
  file (``ENOSPC``).

Mounts made here are seen only by this shell and by the processes it starts, so the test
looks at files inside them by running commands here too (SQLite resolves a
``/proc/PID/root/...`` path back to the caller's own root). Each command is one line of ``sh``.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

# Read a command per line, run it, answer with its output and then a line "__rc=N".
LOOP = 'while IFS= read -r line; do out=$(eval "$line" 2>&1); rc=$?; printf "%s\\n__rc=%d\\n" "$out" "$rc"; done'  # noqa: E501
UNSHARE = ("unshare", "--user", "--map-root-user", "--mount", "--propagation", "private")


def available() -> bool:
    """Whether this machine lets us create a user + mount namespace and mount in it."""
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        [*UNSHARE, "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt && umount /mnt"],
        capture_output=True,
    )
    return probe.returncode == 0


needs_namespace = pytest.mark.skipif(
    not available(), reason="needs a user + mount namespace (unshare --user --mount)"
)


class MountNamespace:
    """A long-lived ``sh`` in its own mount namespace; ``run`` sends it one command."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [*UNSHARE, "sh", "-c", LOOP],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, command: str, *, check: bool = True) -> tuple[int, str]:
        """Run one shell command inside; (exit status, output). ``check``: fail on non-zero."""
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        lines = []
        while not (line := self.process.stdout.readline()).startswith("__rc="):
            if not line:
                raise RuntimeError(f"the namespace shell exited during: {command}")
            lines.append(line)
        status, output = int(line.removeprefix("__rc=")), "".join(lines).rstrip("\n")
        if check and status != 0:
            raise RuntimeError(f"{command}: exit {status}: {output}")
        return status, output

    def start(self, argv: list[str], log: Path) -> int:
        """Start ``argv`` in the background inside; its process id."""
        command = " ".join(shlex.quote(a) for a in argv)
        _, pid = self.run(f"{command} </dev/null >{shlex.quote(str(log))} 2>&1 & echo $!")
        return int(pid)

    # --- conditions -------------------------------------------------------------------------

    def read_only(self, file: Path) -> None:
        """Make ``file`` read-only: a bind mount over itself, remounted read-only."""
        quoted = shlex.quote(str(file))
        self.run(f"mount --bind {quoted} {quoted} && mount -o remount,bind,ro {quoted}")

    def writable(self, file: Path) -> None:
        """Undo ``read_only`` (the same inode becomes writable again)."""
        self.run(f"mount -o remount,bind,rw {shlex.quote(str(file))}")

    def small_disk(self, folder: Path, megabytes: int) -> None:
        """Mount a ``megabytes`` tmpfs over ``folder`` (which it hides) and keep its files."""
        quoted = shlex.quote(str(folder))
        self.run(
            f"tar -C {quoted} -cf /tmp/.feeds-mountns-$$.tar . && "
            f"mount -t tmpfs -o size={megabytes}m tmpfs {quoted} && "
            f"tar -C {quoted} -xf /tmp/.feeds-mountns-$$.tar && rm /tmp/.feeds-mountns-$$.tar"
        )

    def fill(self, folder: Path) -> None:
        """Fill the file system holding ``folder`` with a ballast file, to the last byte."""
        ballast = shlex.quote(str(folder / "ballast"))
        self.run(f"dd if=/dev/zero of={ballast} bs=64k 2>/dev/null; test -s {ballast}")

    def free(self, folder: Path) -> None:
        """Remove the ballast: the disk has room again."""
        self.run(f"rm {shlex.quote(str(folder / 'ballast'))}")

    def close(self) -> None:
        """End the shell; its mounts go with the namespace once its last process exits."""
        if self.process.stdin:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        finally:
            if self.process.stdout:
                self.process.stdout.close()
