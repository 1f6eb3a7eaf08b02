"""Resume: a render killed at any point continues to the same frames; nothing is overwritten by accident."""

import signal
import subprocess
import sys

import imageio.v3 as iio
import numpy as np
import pytest

from tests.helpers import ROOT, signal_self_when, wait_until

SCENE = """
size: [96, 76]
fps: 12
frames: 20
seed: 3
start: logo.png
dream: {octaves: 1, iterations: 1, step: 0.03, jitter: 4}
motion: {zoom: 1.04, rotate: 1}
color: {strength: 0.3, reference: first}
segments:
  - frames: [0, 7]
    layers: edges
  - frames: [8, 19]
    layers: circles
    transition: 4
"""

FLAGS = ("--device", "cpu", "--full", "--quiet", "--checkpoint-every", "10")


@pytest.mark.slow
def test_killed_render_resumes_to_identical_frames(write_scene, tmp_path, command):
    scene_file = write_scene(SCENE)
    reference = tmp_path / "reference.mp4"
    assert command(scene_file, *FLAGS, "--out", reference).returncode == 0

    target = tmp_path / "killed.mp4"
    work = tmp_path / ".killed.mp4.work"
    checkpoint = work / "checkpoint.pt"
    process = subprocess.Popen(  # kill -9 needs a process of its own
        [sys.executable, str(ROOT / "render.py"), str(scene_file), *FLAGS, "--out", str(target)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        # killed once a piece is checkpointed and the next one is being written
        wait_until(lambda: checkpoint.exists() and any(work.glob("piece_000010*")), "the second piece", process)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert checkpoint.exists() and not target.exists()

    again = command(scene_file, *FLAGS, "--out", target)
    assert again.returncode == 2 and "--resume" in again.stderr  # nothing is thrown away silently
    resumed = command(scene_file, *FLAGS, "--out", target, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert np.array_equal(iio.imread(target), iio.imread(reference))
    assert not work.exists()


@pytest.mark.slow
@pytest.mark.slow
def test_a_render_killed_before_its_sidecar_resumes(write_scene, command, monkeypatch):
    """Killed after the video is renamed into place and before its sidecar is written: --resume (no
    --overwrite: the video is its own, its work folder still says so) writes the sidecar, and the
    video is whole."""
    import os
    from pathlib import Path

    import pipeline
    from pipeline.session import session
    from tests.helpers import small_scene

    scene = write_scene(small_scene(4, weights="random", output="out/one.mp4"))
    replace = os.replace

    def killed(source, target):
        if Path(target).name == "one.mp4.yaml":
            raise SystemExit(137)  # the process dies here: nothing after runs
        replace(source, target)

    monkeypatch.setattr(session.os, "replace", killed)  # the os module's: the sidecar's too
    with pytest.raises(SystemExit):
        pipeline.render(pipeline.load_scene(scene), device="cpu")
    monkeypatch.undo()
    video = scene.parent / "out" / "one.mp4"
    assert video.exists() and not (scene.parent / "out" / "one.mp4.yaml").exists()
    resumed = command(scene, "--device", "cpu", "--full", "--quiet", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert len(iio.imread(video)) == 4 and (scene.parent / "out" / "one.mp4.yaml").is_file()
    assert not list((scene.parent / "out").glob(".*work")) and not list((scene.parent / "out").glob("*.part*"))


def test_resume_refuses_a_changed_scene(write_scene, tmp_path, command):
    scene_file = write_scene(SCENE)
    target = tmp_path / "out.mp4"
    checkpoint = tmp_path / ".out.mp4.work" / "checkpoint.pt"
    with signal_self_when(checkpoint.exists, signal.SIGTERM) as sent:  # stopped as a scheduler would
        stopped = command(scene_file, "--device", "cpu", "--full", "--quiet", "--out", target,
                          "--checkpoint-every", "3")
    assert sent.is_set() and stopped.returncode == 143 and checkpoint.exists(), stopped.stderr
    scene_file.write_text(SCENE.replace("seed: 3", "seed: 4"))
    result = command(scene_file, "--device", "cpu", "--full", "--quiet", "--out", target,
                     "--checkpoint-every", "3", "--resume")
    assert result.returncode == 2 and "different scene" in result.stderr


@pytest.mark.slow
def test_existing_output_needs_overwrite(write_scene, tmp_path, command):
    scene_file = write_scene(SCENE.replace("frames: 20", "frames: 2").replace("[0, 7]", "[0, 0]")
                             .replace("[8, 19]", "[1, 1]").replace("transition: 4", ""))
    target = tmp_path / "once.mp4"
    flags = ("--device", "cpu", "--full", "--quiet", "--out", target)
    assert command(scene_file, *flags).returncode == 0
    stamp = target.stat().st_mtime_ns
    refused = command(scene_file, *flags)
    assert refused.returncode == 2 and "--overwrite" in refused.stderr
    assert target.stat().st_mtime_ns == stamp
    assert command(scene_file, *flags, "--overwrite").returncode == 0
