"""Resume: a render killed at any point continues to the same frames; nothing is overwritten by accident."""

import signal
import subprocess
import sys
import time

import imageio.v3 as iio
import numpy as np

from tests.conftest import ROOT

SCENE = """
size: [160, 112]
fps: 12
frames: 40
seed: 3
start: logo.png
dream: {octaves: 1, iterations: 2, step: 0.03, jitter: 4}
motion: {zoom: 1.04, rotate: 1}
color: {strength: 0.3, reference: first}
segments:
  - frames: [0, 11]
    layers: edges
  - frames: [12, 39]
    layers: circles
    transition: 4
"""


def run(scene_file, *flags, timeout=300):
    return subprocess.run(
        [sys.executable, str(ROOT / "render.py"), str(scene_file), "--device", "cpu", "--full", "--quiet", *flags],
        capture_output=True, text=True, timeout=timeout,
    )


def test_killed_render_resumes_to_identical_frames(write_scene, tmp_path):
    scene_file = write_scene(SCENE)
    reference = tmp_path / "reference.mp4"
    assert run(scene_file, "--out", str(reference), "--checkpoint-every", "5").returncode == 0

    target = tmp_path / "killed.mp4"
    checkpoint = tmp_path / ".killed.mp4.work" / "checkpoint.pt"
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "render.py"), str(scene_file), "--device", "cpu", "--full", "--quiet",
         "--out", str(target), "--checkpoint-every", "5"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if checkpoint.exists():
            break
        time.sleep(0.05)
    time.sleep(0.3)  # into the next piece
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert checkpoint.exists() and not target.exists()

    again = run(scene_file, "--out", str(target), "--checkpoint-every", "5")
    assert again.returncode == 2 and "--resume" in again.stderr  # nothing is thrown away silently
    resumed = run(scene_file, "--out", str(target), "--checkpoint-every", "5", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert np.array_equal(iio.imread(target), iio.imread(reference))
    assert not checkpoint.parent.exists()


def test_resume_refuses_a_changed_scene(write_scene, tmp_path):
    scene_file = write_scene(SCENE)
    target = tmp_path / "out.mp4"
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "render.py"), str(scene_file), "--device", "cpu", "--full", "--quiet",
         "--out", str(target), "--checkpoint-every", "3"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    checkpoint = tmp_path / ".out.mp4.work" / "checkpoint.pt"
    deadline = time.monotonic() + 120
    while not checkpoint.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    scene_file.write_text(SCENE.replace("seed: 3", "seed: 4"))
    result = run(scene_file, "--out", str(target), "--checkpoint-every", "3", "--resume")
    assert result.returncode == 2 and "different scene" in result.stderr


def test_existing_output_needs_overwrite(write_scene, tmp_path):
    scene_file = write_scene(SCENE.replace("frames: 40", "frames: 2").replace("[0, 11]", "[0, 0]")
                             .replace("[12, 39]", "[1, 1]").replace("transition: 4", ""))
    target = tmp_path / "once.mp4"
    assert run(scene_file, "--out", str(target)).returncode == 0
    stamp = target.stat().st_mtime_ns
    refused = run(scene_file, "--out", str(target))
    assert refused.returncode == 2 and "--overwrite" in refused.stderr
    assert target.stat().st_mtime_ns == stamp
    assert run(scene_file, "--out", str(target), "--overwrite").returncode == 0
