import os
import shutil
import signal
import subprocess
import textwrap
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOGO = ROOT / "scenes" / "logo.png"


@pytest.fixture
def write_scene(tmp_path):
    """Write YAML text (dedented) as a scene file in a temp folder with the logo beside it."""
    shutil.copy(LOGO, tmp_path / "logo.png")

    def write(text: str, name: str = "scene.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    return write


@pytest.fixture
def make_scene(tmp_path):
    """Build a Scene from a dict through the Python API, as from NAME.yaml in a temp folder that
    has the logo beside it."""
    from pipeline import Scene

    shutil.copy(LOGO, tmp_path / "logo.png")

    def make(data: dict, name: str = "scene"):
        return Scene.from_data(data, base_dir=tmp_path, name=name)

    return make


@pytest.fixture(scope="session")
def inception():
    from pipeline.models.cache import network

    return network("inception_v3", "cpu")


@pytest.fixture
def reuse_inception(inception):
    """Renders and storyboards started in this test find the pretrained inception_v3 already loaded:
    it is made the process's most recently used network (models/cache.py), as a batch would."""
    from pipeline.models.cache import network

    return network("inception_v3", "cpu")


@pytest.fixture
def command(reuse_inception, capsys):
    """Run the command line in this process, as `python render.py ARGS` would:
    returns a CompletedProcess with its exit code, stdout and stderr."""
    from pipeline.cli import main

    def run(*args) -> subprocess.CompletedProcess:
        argv = [str(arg) for arg in args]
        capsys.readouterr()  # only what this command prints
        try:
            code = main(argv)
        except SystemExit as exit:  # argparse's errors
            code = exit.code if isinstance(exit.code, int) else 2
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(["render.py", *argv], code, out, err)

    return run


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
