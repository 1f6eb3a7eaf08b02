"""One render per output: a lock beside it (`.NAME.lock`), held while the render runs.

The lock is the operating system's (filelock): it goes away with the process,
so a render killed with kill -9 leaves nothing that blocks the next one. Who
holds it (pid, host, since when) is written next to it (`.NAME.lock.holder`)
so the render that finds it taken can say whom to wait for.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

from filelock import FileLock, Timeout

from ..output.layout import lock_path


class OutputBusy(Exception):
    """Another render holds this output; retrying later is the fix (exit 75, as in sysexits)."""


class OutputLock:
    def __init__(self, output: Path):
        self.path = lock_path(output)
        self.holder = self.path.with_name(self.path.name + ".holder")
        self.lock = FileLock(str(self.path), timeout=0)

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.lock.acquire()
        except Timeout:
            raise self.busy() from None
        temp = self.holder.with_name(self.holder.name + ".part")
        temp.write_text(f"pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        os.replace(temp, self.holder)

    def busy(self) -> OutputBusy:
        name = self.path.name.removeprefix(".").removesuffix(".lock")
        return OutputBusy(f"another render is writing {name} ({self.held_by()}); retry when it has finished")

    def check_free(self) -> None:
        """OutputBusy if another render holds the lock; creates no file where there is none."""
        if self.path.exists():
            self.acquire()
            self.release()

    def held_by(self) -> str:
        try:
            return self.holder.read_text().strip()
        except OSError:
            return "holder unknown"

    def release(self) -> None:
        if self.lock.is_locked:
            self.holder.unlink(missing_ok=True)
            self.lock.release()

    def __enter__(self) -> "OutputLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
