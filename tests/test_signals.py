"""Schedulers stop jobs with SIGTERM, terminals with SIGHUP: both behave like Ctrl-C.

Each waits on an event (a checkpoint file), never on a fixed sleep alone.
"""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCENE = """
size: [96, 80]
fps: 12
frames: 400
seed: 2
start: logo.png
weights: random
dream: {octaves: 1, iterations: 1, jitter: 2}
motion: {zoom: 1.02}
segments:
  - frames: [0, 399]
    layers: edges
"""


def start(args, cwd) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pipeline", *map(str, args), "--device", "cpu", "--full",
                             "--quiet", "--checkpoint-every", "2"],
                            cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(path: Path, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


@pytest.mark.slow
@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_stop_signal_checkpoints_keeps_a_partial_and_exits_with_its_code(write_scene, signum, code):
    scene = write_scene(SCENE)
    out = scene.parent / "out.mp4"
    process = start([scene, "--out", out], scene.parent)
    checkpoint = scene.parent / ".out.mp4.work" / "checkpoint.pt"
    wait_for(checkpoint, process)
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    assert process.returncode == code, err
    assert "--resume" in err and "Traceback" not in err
    assert (scene.parent / "out.part.mp4").is_file() and checkpoint.is_file() and not out.exists()


def running_with(text: str) -> list[int]:
    """Process ids whose command line mentions `text`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


@pytest.mark.slow
def test_a_jobs_parent_passes_sigterm_on_and_leaves_no_child_behind(write_scene):
    scenes = [write_scene(SCENE.replace("seed: 2", f"seed: {n}"), f"job{n}.yaml") for n in (1, 2)]
    report = scenes[0].parent / "report.json"
    process = start([*scenes, "--jobs", "2", "--report", report], scenes[0].parent)
    for n in (1, 2):
        wait_for(scenes[0].parent / "renders" / f".job{n}.mp4.work" / "checkpoint.pt", process)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 143, err
    assert "interrupted" in out  # the table is printed
    assert running_with(str(scenes[0].parent)) == []
    statuses = [(s["status"], s["exit_code"]) for s in json.loads(report.read_text())["scenes"]]
    assert statuses == [("interrupted", 143)] * 2
    for n in (1, 2):
        assert (scenes[0].parent / "renders" / f".job{n}.mp4.work" / "checkpoint.pt").is_file()


@pytest.mark.slow
def test_one_render_per_output_and_a_dead_holders_lock_is_taken_over(write_scene, capsys):
    from pipeline.cli import main

    scene = write_scene(SCENE)
    out = scene.parent / "out.mp4"
    first = start([scene, "--out", out], scene.parent)
    wait_for(scene.parent / ".out.mp4.work" / "checkpoint.pt", first)
    for extra in ([], ["--resume"]):  # in this process, while the first render holds the output
        assert main([str(scene), "--out", str(out), "--device", "cpu", "--quiet", *extra]) == 75
        err = capsys.readouterr().err
        assert f"pid {first.pid} on " in err and "retry" in err and "Traceback" not in err
    first.send_signal(signal.SIGKILL)  # dies holding the lock
    first.wait()
    code = main([str(scene), "--out", str(out), "--device", "cpu", "--full", "--quiet", "--resume", "--frames", ":9"])
    assert code == 2 and "different scene or settings" in capsys.readouterr().err  # got past the lock


def test_a_second_signal_stops_at_once_unless_it_is_the_first_one_echoed(monkeypatch):
    from pipeline.session import signals

    clock = [100.0]
    monkeypatch.setattr(signals.time, "monotonic", lambda: clock[0])
    request = signals.StopRequest()
    request._handle(signal.SIGINT, None)  # a terminal's Ctrl-C ...
    clock[0] += 0.2
    request._handle(signal.SIGINT, None)  # ... and a batch parent passing it on: still one stop
    with pytest.raises(signals.Stopped):
        request.check()  # at the next frame boundary
    clock[0] += 2.0
    with pytest.raises(signals.Stopped) as stopped:
        request._handle(signal.SIGTERM, None)  # a later, real second request: at once
    assert signals.exit_code_for(stopped.value.signum) == 143


@pytest.mark.slow
def test_a_stop_does_not_wait_for_a_long_frame(write_scene):
    """Frame 1 takes hundreds of steps; a SIGTERM during it stops the render there, keeping frame 0."""
    scene = write_scene(SCENE.replace("iterations: 1", "iterations: 500").replace("frames: 400", "frames: 3")
                        .replace("[0, 399]", "[0, 2]"))
    out = scene.parent / "out.mp4"
    process = subprocess.Popen([sys.executable, "-m", "pipeline", scene, "--out", out, "--device", "cpu", "--full",
                                "--quiet", "--checkpoint-every", "1"], cwd=scene.parent, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    wait_for(scene.parent / ".out.mp4.work" / "checkpoint.pt", process)  # frame 0 is written; frame 1 is dreaming
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143, err
    assert "the 1 frames so far" in err


@pytest.mark.slow
def test_a_stop_before_the_render_begins_exits_with_its_code(write_scene):
    scene = write_scene(SCENE)
    process = subprocess.Popen([sys.executable, "-m", "pipeline", scene, "--device", "cpu", "--quiet"],
                               cwd=scene.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    line = ""
    while "Rendering" not in line and time.monotonic() < deadline:  # the event: validated, now loading
        line = process.stderr.readline()
    process.send_signal(signal.SIGHUP)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 129, err
    assert "Traceback" not in err


@pytest.mark.slow
def test_a_ray_batch_cancels_its_tasks_on_sigterm(write_scene):
    pytest.importorskip("ray")
    scene = write_scene(SCENE, "ray_long.yaml")
    process = start([scene, "--ray"], scene.parent)
    wait_for(scene.parent / "renders" / ".ray_long.mp4.work" / "checkpoint.pt", process, timeout=180)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 143, err[-2000:]
    assert "interrupted" in out.splitlines()[-1]
    assert not (scene.parent / "renders" / "ray_long.mp4").exists()
    assert (scene.parent / "renders" / "ray_long.part.mp4").is_file()  # the cancelled task stopped as on Ctrl-C
