"""The fast run (`python -m pytest -m "not slow"`) is worth running: enough tests, every package touched."""

import ast
from pathlib import Path

import pytest

from tests.helpers import ROOT, small_scene

PACKAGES = sorted(p.parent.name for p in (ROOT / "pipeline").glob("*/__init__.py"))


def packages_imported_by(path: Path) -> set[str]:
    """The pipeline packages a test file imports (`from pipeline.scene import ...`, `from pipeline import cli`)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[0] == "pipeline":
                found.update(parts[1:2] or [alias.name for alias in node.names])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("pipeline."))
    return found & set(PACKAGES)


class Selected:
    """A plugin that keeps what a run selected."""

    def pytest_collection_finish(self, session):
        self.items = list(session.items)


def test_the_fast_run_touches_every_package():
    """Collected in this process (the test modules are mostly imported already): the fast run's selection."""
    selected = Selected()
    code = pytest.main(["-m", "not slow", "--collect-only", "-q", "-p", "no:cacheprovider", str(ROOT / "tests")],
                       plugins=[selected])
    assert code == pytest.ExitCode.OK
    tests = [item.nodeid for item in selected.items]
    assert len(tests) >= 150, f"only {len(tests)} tests in the fast run"
    files = {nodeid.split("::")[0] for nodeid in tests}
    assert "tests/test_gpu.py" not in files  # marked gpu only: slow too
    touched = set().union(*(packages_imported_by(ROOT / f) for f in files))
    assert set(PACKAGES) - touched == set(), "packages no fast test imports"


def test_the_small_scene_is_a_valid_scene_as_data_and_as_a_file(write_scene, make_scene):
    from pipeline.scene import load_scene

    scene = load_scene(write_scene(small_scene(4, layers="circles", seed=7)))
    assert (scene.frames, scene.seed, tuple(scene.size)) == (4, 7, (96, 80))
    assert scene.segments[0].layers == {"circles": 1.0}
    assert make_scene(small_scene()).frames == 3
