"""Stopping a render cleanly, whoever asks: Ctrl-C (SIGINT), a scheduler
(SIGTERM) or a closed terminal (SIGHUP). The first signal asks the loop to
stop within a few seconds: at the next frame boundary, or between the steps of a
frame that is not nearly done (that frame is dropped); nothing is half-written. A second
one interrupts at once. The exit code then says which signal it was
(128 + its number: 130, 143, 129), as shells do.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time

log = logging.getLogger("dreamzoom.session")
NEARLY_DONE = 0.8  # a frame this far along is finished before stopping; one less so is dropped
ECHO_SECONDS = 1.0  # a second signal sooner than this is the first one again, not a second request
STOP_SIGNALS = tuple(s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None)


def install_stop_handler(handler) -> dict:
    """Route every stop signal to `handler`; returns the handlers it replaced. Signals reach
    only the main thread, so elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {signum: signal.signal(signum, handler) for signum in STOP_SIGNALS}


def restore_handlers(previous: dict) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)


@contextlib.contextmanager
def stop_handler(handler):
    """Within: every stop signal goes to `handler`."""
    previous = install_stop_handler(handler)
    try:
        yield
    finally:
        restore_handlers(previous)


class Stopped(KeyboardInterrupt):
    """Raised at a frame boundary (or at once, on a second signal) after a stop signal."""

    def __init__(self, signum: int = signal.SIGINT):
        self.signum = signum
        super().__init__(signal.Signals(signum).name)


def exit_code_for(signum: int) -> int:
    return 128 + int(signum)


class StopRequest:
    def __init__(self):
        self.signum: int | None = None
        self.since = 0.0
        self.previous: dict[int, object] = {}

    def install(self) -> None:
        self.previous = install_stop_handler(self._handle)

    def _handle(self, signum, frame):
        if self.signum is not None:
            if time.monotonic() - self.since < ECHO_SECONDS:
                return  # the same stop, delivered twice (a terminal's Ctrl-C and a batch parent passing it on)
            raise Stopped(signum)
        self.signum, self.since = signum, time.monotonic()
        log.warning("\n%s: stopping after this frame (again to stop at once)...", signal.Signals(signum).name)

    def uninstall(self) -> None:
        restore_handlers(self.previous)
        self.previous = {}

    def check(self) -> None:
        if self.signum is not None:
            raise Stopped(self.signum)

    def check_mid_frame(self, done: float) -> None:
        """Between a frame's steps: stop now, dropping the frame, unless it is nearly done."""
        if self.signum is not None and done < NEARLY_DONE:
            raise Stopped(self.signum)


class Caught:
    """Which stop signal came, for code that only sees a KeyboardInterrupt (some libraries,
    Ray's waits among them, raise their own in place of ours)."""

    signum: int = signal.SIGINT


@contextlib.contextmanager
def raising_on_stop():
    """Within: any stop signal raises Stopped in the main thread at once (where waiting is all
    there is to do). Yields a Caught that records the signal."""
    caught = Caught()

    def handle(signum, frame):
        caught.signum = signum
        raise Stopped(signum)

    with stop_handler(handle):
        yield caught
