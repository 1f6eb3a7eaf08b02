"""Times and beats: keys and segment bounds written in seconds or beats land on the right frames."""

import pytest

from pipeline import cli
from pipeline.plan import make_plan
from pipeline.scene import SceneError
from pipeline.scene.timing import Timing

BASE = {"size": [96, 96], "fps": 30, "duration": "10s", "bpm": 120,
        "segments": [{"frames": [0, 299], "layers": "edges"}]}


@pytest.mark.parametrize("written, frame", [
    (150, 150), ("150", 150), ("5s", 150), ("2.5s", 75), ("0.1s", 3), ("1m", 1800), ("1m30s", 2700),
    ("16b", 240), ("1b", 15), ("3.5b", 53),  # 1.75 s is frame 52.5: a half rounds up
])
def test_a_moment_lands_on_the_nearest_frame(written, frame):
    assert Timing(fps=30, bpm=120).frame(written) == frame


def test_beats_count_from_the_beat_offset_and_fractional_fps_rounds_halves_up():
    assert Timing(fps=30, bpm=120, beat_offset=0.5).frame("2b") == 45  # 0.5 s + 2 beats of 0.5 s
    assert Timing(fps=25).frame("0.02s") == 1  # exactly half a frame
    assert Timing(fps=29.97).frame("10s") == 300  # 299.7


@pytest.mark.parametrize("written", [" 5", "5 s", "", "s", "-5s", "5x", "1.5", True, 2.5, None, "16 b"])
def test_anything_else_is_refused(written):
    with pytest.raises(ValueError, match="expected a frame"):
        Timing(fps=30, bpm=120).frame(written)


def test_keyframe_keys_in_seconds_and_beats(make_scene):
    scene = make_scene({**BASE, "motion": {"zoom": {"0s": 1.0, "5s": 1.1, "16b": 1.2}}})
    assert scene.motion.zoom.frames == [0, 150, 240]
    plan = make_plan(scene)
    assert plan.frames[150].motion.zoom == pytest.approx(1.1) and plan.frames[240].motion.zoom == pytest.approx(1.2)


def test_at_segments_switch_at_their_start(make_scene):
    scene = make_scene({**BASE, "segments": [
        {"at": 0, "layers": "edges"}, {"at": "4s", "layers": "circles"}, {"at": "16b", "layers": "parts"}]})
    assert [s.frames for s in scene.segments] == [(0, 119), (120, 239), (240, 299)]
    plan = make_plan(scene)
    assert [plan.frames[n].segment for n in (0, 119, 120, 239, 240, 299)] == [0, 0, 1, 1, 2, 2]


def test_at_and_frames_mix_when_they_agree(make_scene):
    scene = make_scene({**BASE, "segments": [
        {"frames": [0, "4s"], "layers": "edges"}, {"at": 121, "layers": "circles"}]})
    assert [s.frames for s in scene.segments] == [(0, 120), (121, 299)]
    with pytest.raises(SceneError, match="at lands on frame 120, but frames starts at 100"):
        make_scene({**BASE, "segments": [{"frames": [0, 99], "layers": "edges"},
                                         {"at": "4s", "frames": [100, 299], "layers": "circles"}]})


def test_an_at_timeline_has_no_gaps_but_may_not_start_late_or_run_backwards(make_scene):
    with pytest.raises(SceneError, match="segments.0.at: starts at 30, leaving frames 0-29 without a segment"):
        make_scene({**BASE, "segments": [{"at": "1s", "layers": "edges"}]})
    with pytest.raises(SceneError, match="segments.2.at: starts at 60, overlapping"):
        make_scene({**BASE, "segments": [{"at": 0, "layers": "edges"}, {"at": "4s", "layers": "circles"},
                                         {"at": "2s", "layers": "parts"}]})
    with pytest.raises(SceneError, match="say where this segment is"):
        make_scene({**BASE, "segments": [{"layers": "edges"}]})


def test_time_mistakes_are_refused_with_their_line(write_scene):
    from pipeline.scene import load_scene

    path = write_scene("size: [96, 96]\nduration: 10s\nmotion:\n  zoom: {0: 1.0, 16b: 1.2}\n"
                       "segments:\n  - at: 0\n    layers: edges\n")
    with pytest.raises(SceneError) as caught:
        load_scene(path)
    assert caught.value.problems[0][:2] == (4, "motion.zoom")
    assert "'16b' is in beats: set bpm" in caught.value.problems[0][2]
    path = write_scene("size: [96, 96]\nduration: 10s\nmotion:\n  zoom: {150: 1.0, 5s: 1.2}\n"
                       "segments:\n  - at: 0\n    layers: edges\n")
    with pytest.raises(SceneError, match="'5s' lands on frame 150, as another key does"):
        load_scene(path)


def test_dry_run_shows_where_each_time_landed(write_scene, capsys):
    path = write_scene("size: [96, 96]\nduration: 10s\nbpm: 120\nmotion:\n  zoom: {0: 1.0, 5s: 1.1, 16b: 1.2}\n"
                       "segments:\n  - at: 0\n    layers: edges\n  - at: 4s\n    layers: circles\n")
    assert cli.main([str(path), "--dry-run", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "time     motion.zoom: 5s -> frame 150, 16b -> frame 240" in out
    assert "segment 0: frames 0-119" in out and "segment 1: frames 120-299" in out


def test_dry_run_json_is_the_plan_frame_by_frame(write_scene, capsys):
    import json

    from pipeline.scene import load_scene

    text = ("size: [200, 120]\nduration: 2s\nbpm: 120\nmotion:\n  zoom: {0: 1.0, 1s: 1.1}\n  translate: [4, -2]\n"
            "color: {strength: 0.2}\nsegments:\n  - at: 0\n    layers: edges\n  - at: 2b\n    layers: circles\n"
            "    transition: 5\n")
    path = write_scene(text)
    for flags, preview in ((["--full"], False), (["--preview"], True)):
        assert cli.main([str(path), "--dry-run", "--json", "--device", "cpu", *flags]) == 0
        lines = capsys.readouterr().out.splitlines()
        plan = make_plan(load_scene(path), preview=preview)
        assert len(lines) == 60
        for line, spec in zip(lines, plan.frames):
            record = json.loads(line)
            assert record["frame"] == spec.index and record["time"] == pytest.approx(spec.index / 30, abs=1e-6)
            assert record["segment"] == spec.segment and record["zoom"] == pytest.approx(spec.motion.zoom)
            assert record["translate"] == pytest.approx(list(spec.motion.translate))
            assert record["iterations"] == spec.dream.iterations and record["jitter"] == spec.dream.jitter
            assert record["color_strength"] == pytest.approx(0.2)
            assert record["layers"] == {term.label: w for term, w in spec.terms.items()}
    assert json.loads(lines[31])["layers"] == pytest.approx({"conv_4": 4 / 6, "mixed_1": 2 / 6})  # mid-crossfade


def test_dry_run_json_of_several_scenes_names_each_and_keeps_stdout_clean(write_scene, capsys):
    import json

    text = "size: [96, 96]\nframes: 3\nsegments:\n  - at: 0\n    layers: edges\n"
    paths = [write_scene(text, "a.yaml"), write_scene(text, "b.yaml")]
    assert cli.main([*map(str, paths), "--dry-run", "--json", "--device", "cpu"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["scene"], r["frame"]) for r in records] == [(str(p.resolve()), n) for p in paths for n in range(3)]
