"""What the tests share besides fixtures: the repository's paths, a small scene, waiting and signalling."""

import os
import signal
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOGO = ROOT / "scenes" / "logo.png"


def small_scene(frames: int = 3, layers="edges", **changes) -> dict:
    """A scene small enough to render in a moment: 96x80 from the logo, one octave of one iteration,
    one segment of `layers` over all `frames`; top-level keys in `changes` replace these."""
    return {"size": [96, 80], "fps": 8, "frames": frames, "start": "logo.png",
            "dream": {"octaves": 1, "iterations": 1, "step": 0.03},
            "segments": [{"frames": [0, frames - 1], "layers": layers}], **changes}


def wait_until(ready, what: str, process: subprocess.Popen | None = None, timeout: float = 120) -> None:
    """Poll `ready()` until it is true; fails if `process` ends first or after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not ready():
        if process is not None and process.poll() is not None:
            pytest.fail(f"the process ended (exit {process.returncode}) before {what}")
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


@contextmanager
def signal_self_when(ready, signum: int = signal.SIGTERM):
    """While inside, a watcher thread sends `signum` to this process once `ready()` is true, as a
    scheduler would to a render in progress. The signal's default action (which would end the test
    run) is replaced by a no-op for the duration, so a render's own handler is what acts on it."""
    previous = signal.signal(signum, lambda *_: None)
    done = threading.Event()
    sent = threading.Event()

    def watch():
        while not done.is_set():
            if ready():
                os.kill(os.getpid(), signum)
                sent.set()
                return
            time.sleep(0.01)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield sent
    finally:
        done.set()
        watcher.join()
        signal.signal(signum, previous)
