""""Done" is a promise: pieces and the joined video are checked before a render says so."""

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


@pytest.fixture
def interrupted_render(write_scene, inception, monkeypatch):
    """A render stopped after 6 of 10 frames, as a signal would stop it: pieces of 2 frames and a checkpoint."""
    scene_file = write_scene(SCENE)
    scene = load_scene(scene_file)
    out = scene_file.parent / "out.mp4"
    seen = []

    def stop_after_six(self):
        seen.append(1)
        if len(seen) == 6:
            raise signals.Stopped()

    monkeypatch.setattr(signals.StopRequest, "check", stop_after_six)
    with pytest.raises(RenderInterrupted):
        render(scene, make_plan(scene, output=out), out, "cpu", progress=False, net=inception, checkpoint_every=2)
    monkeypatch.undo()
    monkeypatch.setattr("pipeline.session.session.load_model", lambda *args, **kwargs: inception)  # loaded once
    return scene_file, out, scene_file.parent / ".out.mp4.work"


def resume(scene_file, out):
    return main([str(scene_file), "--out", str(out), "--device", "cpu", "--full", "--quiet",
                 "--checkpoint-every", "2", "--resume"])


def test_a_truncated_piece_is_found_at_resume(interrupted_render, capsys):
    scene_file, out, work = interrupted_render
    piece = work / "piece_000002.mp4"
    piece.write_bytes(piece.read_bytes()[: piece.stat().st_size // 2])
    assert resume(scene_file, out) == 1
    err = capsys.readouterr().err
    assert "piece_000002.mp4" in err and "--overwrite" in err and "Traceback" not in err
    assert not out.exists() and (work / "checkpoint.pt").is_file() and piece.exists()


def test_a_missing_piece_is_found_at_resume(interrupted_render, capsys):
    scene_file, out, work = interrupted_render
    (work / "piece_000000.mp4").unlink()
    assert resume(scene_file, out) == 1
    assert "piece_000000.mp4 is missing" in capsys.readouterr().err
    assert not out.exists() and (work / "checkpoint.pt").is_file()


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
