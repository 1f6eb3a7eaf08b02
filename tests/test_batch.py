"""Batches: bad scenes are reported and skipped, good ones render, locally, in parallel and on Ray."""

import os
import struct
import subprocess
import sys
import zlib

import imageio.v3 as iio
import pytest

from pipeline.cli import commands as cli
from pipeline.scene import SceneError, load_scene
from tests.helpers import ROOT

GOOD = """
size: [96, 80]
fps: 8
frames: 3
start: logo.png
dream: {octaves: 1, iterations: 1, step: 0.03}
segments:
  - frames: [0, 2]
    layers: edges
"""


def batch(*paths, flags=()):
    return subprocess.run(
        [sys.executable, str(ROOT / "render.py"), *map(str, paths), "--device", "cpu", "--full", "--quiet", *flags],
        capture_output=True, text=True, timeout=600,
    )


@pytest.mark.slow
def test_one_broken_scene_does_not_stop_the_others(write_scene, command):
    first = write_scene(GOOD, "first.yaml")
    broken = write_scene(GOOD.replace("layers: edges", "layers: edgez"), "broken.yaml")
    second = write_scene(GOOD.replace("frames: 3", "frames: 4").replace("[0, 2]", "[0, 3]"), "second.yaml")
    result = command(first, broken, second, "--device", "cpu", "--full", "--quiet")
    assert result.returncode == 2, result.stderr
    assert f"{broken}:8: segments.0.layers: unknown layer 'edgez'" in result.stderr
    assert "2 of 3 scenes are valid" in result.stderr
    table = result.stdout.splitlines()
    assert table[-4].split()[:5] == ["scene", "status", "frames", "seconds", "output"]
    assert table[-3].split()[1:3] == ["done", "3"] and table[-2].split()[1] == "invalid"
    assert table[-1].split()[1:3] == ["done", "4"]
    assert iio.imread(first.parent / "renders" / "second.mp4").shape[0] == 4


@pytest.mark.slow
def test_jobs_render_scenes_side_by_side(write_scene, command):
    paths = [write_scene(GOOD, f"s{i}.yaml") for i in range(2)]
    result = command(*paths, "--device", "cpu", "--full", "--quiet", "--jobs", "2")  # the children are processes
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(" done ") == 2
    for i in range(2):
        assert iio.imread(paths[0].parent / "renders" / f"s{i}.mp4").shape[0] == 3


@pytest.mark.slow
def test_ray_batch_on_a_local_instance(write_scene):
    pytest.importorskip("ray")
    good = write_scene(GOOD, "ray_a.yaml")
    bad = write_scene(GOOD.replace("fps: 8", "fps: fast"), "ray_bad.yaml")
    result = batch(good, bad, flags=["--ray"])
    assert result.returncode == 2, result.stderr
    assert "fps: write a number (got 'fast')" in result.stderr
    rows = result.stdout.splitlines()[-2:]
    assert rows[0].split()[1:3] == ["done", "3"] and rows[1].split()[1] == "invalid"
    assert iio.imread(good.parent / "renders" / "ray_a.mp4").shape[0] == 3


def test_out_is_for_one_scene(write_scene, capsys):
    paths = [write_scene(GOOD, f"o{i}.yaml") for i in range(2)]
    assert cli.main([*map(str, paths), "--out", "x.mp4"]) == 2
    assert "--out names one file" in capsys.readouterr().err


def errors(write_scene, text):
    with pytest.raises(SceneError) as caught:
        load_scene(write_scene(text))
    return caught.value.render()


def test_truncated_image(write_scene, tmp_path):
    data = (ROOT / "scenes" / "logo.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    assert "cannot read image" in errors(write_scene, GOOD.replace("logo.png", "cut.png"))


def test_decompression_bomb(write_scene, tmp_path):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 50000, 50000, 8, 2, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    (tmp_path / "huge.png").write_bytes(png)
    assert "too large to be a safe image" in errors(write_scene, GOOD.replace("logo.png", "huge.png"))


def test_output_folder_that_cannot_be_made(write_scene):
    text = errors(write_scene, GOOD + "output: logo.png/out.mp4\n")
    assert "output: cannot create a folder" in text and "is a file" in text


def test_directory_instead_of_a_scene(tmp_path, command):
    result = command(tmp_path, "--device", "cpu", "--full", "--quiet")
    assert result.returncode == 2 and "is a directory" in result.stderr and "Traceback" not in result.stderr


def test_batch_children_import_the_parent_s_own_package(monkeypatch):
    """A checkout run as `python render.py` without installing it (or with an install pointing at another
    copy) starts --jobs children of the same code: its folder leads their PYTHONPATH."""
    from pipeline.cli.batch import _package_path

    monkeypatch.setenv("PYTHONPATH", "/elsewhere")
    assert _package_path().split(os.pathsep) == [str(ROOT.resolve()), "/elsewhere"]
    child = subprocess.run([sys.executable, "-c", "import pipeline; print(pipeline.__file__)"], cwd="/",
                           env={**os.environ, "PYTHONPATH": _package_path()}, capture_output=True, text=True)
    assert child.stdout.strip() == str(ROOT.resolve() / "pipeline" / "__init__.py")
