"""Stopping a render cleanly: the first Ctrl-C asks the loop to stop at the
next frame boundary, where nothing is half-written; a second one interrupts
at once."""

from __future__ import annotations

import signal
import sys
import threading


class StopRequest:
    def __init__(self):
        self.requested = False
        self.previous = None

    def install(self) -> None:
        if threading.current_thread() is threading.main_thread():  # signals reach only the main thread
            self.previous = signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("\nStopping after this frame (Ctrl-C again to stop at once)...", file=sys.stderr)

    def uninstall(self) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)

    def check(self) -> None:
        if self.requested:
            raise KeyboardInterrupt
