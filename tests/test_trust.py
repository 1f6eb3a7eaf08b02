""""Done" is a promise: pieces and the joined video are checked before a render says so."""

import imageio.v3 as iio
import numpy as np
import pytest

from pipeline.cli import main
from pipeline.output.encoder import VideoWriter
from pipeline.output.sinks import VideoSettings, sink_for
from pipeline.output.verify import Damaged
from pipeline.plan import make_plan
from pipeline.scene import load_scene
from pipeline.session import signals
from pipeline.session.session import RenderInterrupted, render

SCENE = """
size: [96, 80]
fps: 12
frames: 10
seed: 5
start: logo.png
dream: {octaves: 1, iterations: 1, jitter: 2}
motion: {zoom: 1.03}
segments:
  - frames: [0, 9]
    layers: edges
"""


def stopping_after(frames: int, seen: list):
    """A StopRequest.check that counts the frames in `seen` and stops, as a signal would, after `frames`
    (0: never)."""
    def check(self):
        seen.append(1)
        if len(seen) == frames:
            raise signals.Stopped()
    return check


@pytest.fixture
def interrupted_render(write_scene, inception, reuse_inception, monkeypatch):
    """A render stopped after 6 of 10 frames, as a signal would stop it: pieces of 2 frames and a checkpoint."""
    scene_file = write_scene(SCENE)
    scene = load_scene(scene_file)
    out = scene_file.parent / "out.mp4"
    monkeypatch.setattr(signals.StopRequest, "check", stopping_after(6, []))
    with pytest.raises(RenderInterrupted):
        render(scene, make_plan(scene, output=out), out, "cpu", progress=False, net=inception, checkpoint_every=2)
    monkeypatch.undo()
    return scene_file, out, scene_file.parent / ".out.mp4.work"


def resume(scene_file, out):
    return main([str(scene_file), "--out", str(out), "--device", "cpu", "--full", "--quiet",
                 "--checkpoint-every", "2", "--resume"])


def reference_frames(scene_file, inception, tmp_path):
    scene = load_scene(scene_file)
    out = tmp_path / "reference.mp4"
    render(scene, make_plan(scene, output=out), out, "cpu", progress=False, net=inception, checkpoint_every=2)
    return iio.imread(out)


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["truncated", "missing"])
def test_a_damaged_piece_found_at_resume_is_made_again(interrupted_render, inception, tmp_path, capsys, damage):
    scene_file, out, work = interrupted_render
    piece = work / "piece_000002.mp4"
    if damage == "truncated":
        piece.write_bytes(piece.read_bytes()[: piece.stat().st_size // 2])
    else:
        piece.unlink()
    assert resume(scene_file, out) == 0
    err = capsys.readouterr().err
    assert "piece_000002.mp4" in err and "dreaming again from frame 0" in err and "Traceback" not in err
    assert np.array_equal(iio.imread(out), reference_frames(scene_file, inception, tmp_path))
    assert not work.exists()


@pytest.mark.slow
def test_a_piece_damaged_before_the_join_stops_the_render_and_keeps_everything(interrupted_render, monkeypatch,
                                                                                capsys):
    from pipeline.output.pieces import Pieces

    scene_file, out, work = interrupted_render
    join = Pieces.join_verified

    def damage_then_join(self, *args):
        (work / "piece_000000.mp4").write_bytes(b"")
        return join(self, *args)

    monkeypatch.setattr(Pieces, "join_verified", damage_then_join)
    assert resume(scene_file, out) == 1
    err = capsys.readouterr().err
    assert "piece_000000.mp4" in err and "--resume" in err and "Traceback" not in err
    assert not out.exists() and (work / "checkpoint.pt").is_file()


@pytest.mark.slow
def test_intact_pieces_resume_to_the_whole_video(interrupted_render):
    scene_file, out, work = interrupted_render
    assert resume(scene_file, out) == 0
    assert out.is_file() and not work.exists()


def test_a_joined_file_short_of_frames_is_not_accepted(tmp_path):
    video = VideoSettings(64, 48, 10.0, frame_count=5, total_frames=5)
    sink = sink_for(tmp_path / "clip.mp4", video)
    writer = VideoWriter(tmp_path / "clip.mp4", 64, 48, 10.0, crf=0)
    for _ in range(4):
        writer.write(np.full((48, 64, 3), 128, np.uint8))
    path = writer.finish()
    with pytest.raises(Damaged, match="4 frames, not 5"):
        sink.verify_output(path, 5)
    sink.verify_output(path, 4)
    with pytest.raises(Damaged, match="not 32x48"):
        sink_for(tmp_path / "clip.mp4", VideoSettings(32, 48, 10.0)).verify_output(path, 4)
    for kind in ("clip.gif", "frames"):
        with pytest.raises(Damaged):
            sink_for(tmp_path / kind, video).verify_output(tmp_path / "nothing-here", 5)


def other_precision() -> str:
    from pipeline.dream.engine import resolve_precision

    return "fp32" if str(resolve_precision("auto", "cpu").dtype) == "torch.bfloat16" else "bf16"


@pytest.mark.slow
def test_resume_refuses_other_settings_or_changed_inputs_and_names_them(interrupted_render, capsys):
    scene_file, out, work = interrupted_render
    assert main([str(scene_file), "--out", str(out), "--device", "cpu", "--full", "--quiet", "--checkpoint-every",
                 "2", "--resume", "--precision", other_precision()]) == 2
    assert "changed: precision" in capsys.readouterr().err
    logo = scene_file.parent / "logo.png"
    logo.write_bytes(logo.read_bytes() + b"\0")  # same picture to the eye, other bytes
    assert resume(scene_file, out) == 2
    assert "changed: inputs.logo.png" in capsys.readouterr().err
    assert (work / "checkpoint.pt").is_file()


@pytest.mark.slow
def test_a_corrupt_checkpoint_gets_one_line_and_overwrite_starts_fresh(interrupted_render, capsys, monkeypatch):
    scene_file, out, work = interrupted_render
    (work / "checkpoint.pt").write_bytes(b"not a checkpoint")
    assert resume(scene_file, out) == 2
    err = capsys.readouterr().err
    assert "is damaged; add --overwrite to start again" in err and "Traceback" not in err

    def unread(folder):
        raise AssertionError("--overwrite read the old checkpoint")

    monkeypatch.setattr("pipeline.session.checkpoint.Checkpoint.load", unread)
    assert main([str(scene_file), "--out", str(out), "--device", "cpu", "--full", "--quiet", "--overwrite"]) == 0
    assert out.is_file()


@pytest.mark.slow
def test_a_failed_checkpoint_save_ends_in_one_line_and_keeps_the_last_one(interrupted_render, capsys, monkeypatch):
    from pipeline.session.checkpoint import Checkpoint

    scene_file, out, work = interrupted_render

    def disk_full(*args, **kwargs):
        raise RuntimeError("PytorchStreamWriter failed writing file data/0: file write failed")

    monkeypatch.setattr("pipeline.session.checkpoint.torch.save", disk_full)
    assert resume(scene_file, out) == 1
    err = capsys.readouterr().err
    assert "cannot save the checkpoint" in err and "Traceback" not in err
    assert Checkpoint.load(work).next_frame == 6 and not (work / "checkpoint.pt.part").exists()


@pytest.mark.slow
def test_nothing_but_the_renders_own_files_is_replaced(write_scene, capsys):
    scene_file = write_scene(SCENE)
    folder = scene_file.parent

    def run(*args):
        return main([str(scene_file), "--device", "cpu", "--quiet", *map(str, args)])

    assert run("--out", folder, "--overwrite") == 2  # the folder holds the scene and its image
    assert "holds scene.yaml" in capsys.readouterr().err
    assert run("--out", folder / "frames", "--frames", "0:1") == 0
    (folder / "frames" / "notes.txt").write_text("mine")
    assert run("--out", folder / "frames", "--frames", "0:1", "--overwrite") == 2
    assert (folder / "frames" / "notes.txt").read_text() == "mine"
    (folder / "frames" / "notes.txt").unlink()
    assert run("--out", folder / "frames", "--frames", "0:2", "--overwrite") == 0
    assert len(list((folder / "frames").glob("*.png"))) == 3
    (folder / ".foreign.mp4.work").mkdir()
    assert run("--out", folder / "foreign.mp4", "--overwrite") == 2
    assert "was not made by a render" in capsys.readouterr().err
    (folder / "other.part.mp4").write_text("somebody's")
    assert run("--out", folder / "other.mp4") == 2
    assert (folder / "other.part.mp4").read_text() == "somebody's"
    own = write_scene(SCENE + "output: clip.mp4\n", "clip.mp4.yaml")
    assert main([str(own), "--device", "cpu", "--quiet"]) == 2
    assert "sidecar clip.mp4.yaml would replace" in capsys.readouterr().err
    assert own.read_text().endswith("output: clip.mp4\n")


@pytest.mark.slow
def test_random_weights_follow_the_seed():
    from pipeline.models.network import load_model

    def first_weights(seed):
        return next(load_model("efficientnet_lite0", weights="random", seed=seed).parameters()).clone()

    assert first_weights(3).equal(first_weights(3)) and not first_weights(3).equal(first_weights(4))


@pytest.mark.slow
def test_the_same_pixels_alone_and_inside_jobs(write_scene, inception):
    """--jobs gives each child a share of the CPU threads; the frames must not depend on it."""
    import subprocess
    import sys

    from PIL import Image

    from tests.helpers import ROOT

    scenes = [write_scene(SCENE.replace("frames: 10", "frames: 3").replace("[0, 9]", "[0, 2]") + f"output: {name}\n",
                          f"scene_{name}.yaml") for name in ("alone", "job_a", "job_b")]
    scene = load_scene(scenes[0])
    render(scene, make_plan(scene, output=scene.output_path), scene.output_path, "cpu", progress=False, net=inception)
    result = subprocess.run([sys.executable, "-m", "pipeline", *map(str, scenes[1:]), "--jobs", "2", "--device", "cpu",
                             "--full"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    folder = scenes[0].parent
    for n in range(3):
        alone = np.asarray(Image.open(folder / "alone" / f"alone_{n:05d}.png"))
        for job in ("job_a", "job_b"):
            assert np.array_equal(alone, np.asarray(Image.open(folder / job / f"{job}_{n:05d}.png"))), (job, n)


def test_a_report_says_how_every_scene_went(write_scene, tmp_path, reuse_inception):
    import hashlib
    import json

    good = write_scene(SCENE.replace("frames: 10", "frames: 2").replace("[0, 9]", "[0, 1]"), "good.yaml")
    bad = write_scene(SCENE.replace("layers: edges", "layers: edgse"), "bad.yaml")
    report = tmp_path / "reports" / "run.json"
    assert main([str(good), str(bad), "--device", "cpu", "--quiet", "--report", str(report)]) == 2
    data = json.loads(report.read_text())
    assert data["exit_code"] == 2 and data["status"] == "refused"
    done, invalid = data["scenes"]
    output = good.parent / "renders" / "good.mp4"
    assert done["status"] == "done" and done["exit_code"] == 0 and done["frames"] == 2
    assert done["output"] == str(output) and done["output_bytes"] == output.stat().st_size
    assert done["output_sha256"] == hashlib.sha256(output.read_bytes()).hexdigest()
    assert any("preview" in w for w in done["warnings"])
    assert invalid["status"] == "invalid" and invalid["exit_code"] == 2 and invalid["output_sha256"] is None


@pytest.mark.slow
def test_a_png_folder_interrupted_keeps_its_frames_and_resumes_where_it_stopped(write_scene, inception, monkeypatch):
    """The partial folder shows the frames so far, and --resume dreams only the rest."""
    scene_file = write_scene(SCENE)
    scene = load_scene(scene_file)
    out = scene_file.parent / "frames"
    dreamed = []
    monkeypatch.setattr(signals.StopRequest, "check", stopping_after(6, dreamed))
    with pytest.raises(RenderInterrupted) as stopped:
        render(scene, make_plan(scene, output=out), out, "cpu", progress=False, net=inception, checkpoint_every=2)
    assert len(list(stopped.value.partial.glob("*.png"))) == 6
    dreamed.clear()
    monkeypatch.setattr(signals.StopRequest, "check", stopping_after(0, dreamed))
    render(scene, make_plan(scene, output=out), out, "cpu", progress=False, net=inception, checkpoint_every=2,
           resume=True)
    assert len(dreamed) == 4 and len(list(out.glob("*.png"))) == 10
