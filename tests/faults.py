"""Run the real `shopgen` CLI with a fault injected at one file operation (a test-side entry point).

The reliability tests start this script as a child process instead of the `shopgen` console script.
From its environment (tests only): SHOPGEN_FAULT = "kill:N", "enospc:N", "eacces:N" or "erofs:N"
(at file operation N; "enospc:N+" from N on: a full disk stays full, so the undo fails too);
SHOPGEN_FAULT_COUNT = a file that receives the number of file operations at exit;
SHOPGEN_FAULT_LOG = a file that receives each operation's path, one per line.
"""

from __future__ import annotations

import atexit
import errno
import os
import signal
import sys
from pathlib import Path

_ERRNO = {"enospc": errno.ENOSPC, "eacces": errno.EACCES, "erofs": errno.EROFS}


class Faults:
    """Counts file operations; fails or dies at the one the environment names."""

    def __init__(self, environ: dict[str, str]) -> None:
        kind, _, at = environ.get("SHOPGEN_FAULT", "").partition(":")
        self.onward = at.endswith("+") and kind != "kill"
        at = at.removesuffix("+")
        self.kind = kind if kind in (*_ERRNO, "kill") and at.isdigit() else ""
        self.at = int(at) if self.kind else 0
        self.count = 0
        self.report = environ.get("SHOPGEN_FAULT_COUNT", "")
        self.log_to = environ.get("SHOPGEN_FAULT_LOG", "")
        self.paths: list[str] = []

    def write_reports(self) -> None:
        if self.report:
            Path(self.report).write_text(f"{self.count}\n")
        if self.log_to:
            Path(self.log_to).write_text("".join(f"{p}\n" for p in self.paths))

    def __call__(self, path: Path) -> None:
        self.count += 1
        self.paths.append(str(path))
        if self.count != self.at and not (self.onward and self.count > self.at):
            return
        if self.kind == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        code = _ERRNO[self.kind]
        raise OSError(code, os.strerror(code), str(path))


def main() -> None:
    from shopgen.cli import main as shopgen_main
    from shopgen.output import fileops

    faults = Faults(dict(os.environ))
    fileops.operation_hooks.append(faults)
    atexit.register(faults.write_reports)
    sys.argv = ["shopgen", *sys.argv[1:]]
    shopgen_main()


if __name__ == "__main__":
    main()
