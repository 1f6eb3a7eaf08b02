"""Fixtures and hooks; what tests share besides these is in tests/helpers.py."""

import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml

from tests.helpers import LOGO

ALSO_SLOW = ("browser", "install", "gpu")  # a browser, a pip install or a GPU: never in the fast run


@pytest.hookimpl(tryfirst=True)  # before -m deselects
def pytest_collection_modifyitems(items):
    for item in items:
        if any(item.get_closest_marker(name) for name in ALSO_SLOW) and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def write_scene(tmp_path):
    """Write YAML text (dedented), or scene data such as helpers.small_scene() gives, as a scene file in
    a temp folder with the logo beside it."""
    shutil.copy(LOGO, tmp_path / "logo.png")

    def write(text: str | dict, name: str = "scene.yaml") -> Path:
        path = tmp_path / name
        if isinstance(text, dict):
            text = yaml.safe_dump(text, sort_keys=False, default_flow_style=None)
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
