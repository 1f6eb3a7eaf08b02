"""Scene validation: every class of mistake gets file:line: field: message and exit 2."""

import pytest

from pipeline.cli import commands as cli
from pipeline.scene import SceneError, load_scene

GOOD = """
output: out.mp4
size: [128, 96]
fps: 24
frames: 20
start: logo.png
segments:
  - frames: [0, 9]
    layers: edges
  - frames: [10, 19]
    layers: circles
    transition: 4
"""


def errors_of(write_scene, text):
    with pytest.raises(SceneError) as caught:
        load_scene(write_scene(text))
    return caught.value.problems, caught.value.render()


def test_good_scene_loads(write_scene):
    scene = load_scene(write_scene(GOOD))
    assert scene.frame_count == 20
    assert scene.output_path.name == "out.mp4"
    assert scene.start_image.name == "logo.png"


def test_unknown_key_suggests_the_likely_one(write_scene):
    problems, text = errors_of(write_scene, GOOD + "motion:\n  zooom: 1.02\n")
    line, field, message = problems[0]
    assert (line, field) == (13, "motion.zooom")
    assert "did you mean 'zoom'?" in message and "rotate" in message
    assert "scene.yaml:13: motion.zooom: unknown key" in text


def test_unknown_top_level_key(write_scene):
    problems, _ = errors_of(write_scene, GOOD.replace("fps: 24", "fsp: 24"))
    assert problems[0][:2] == (3, "fsp")
    assert "did you mean 'fps'?" in problems[0][2]


def test_wrong_type_names_the_value(write_scene):
    problems, _ = errors_of(write_scene, GOOD.replace("fps: 24", "fps: fast"))
    line, field, message = problems[0]
    assert (line, field) == (3, "fps") and "'fast'" in message and "number" in message


def test_out_of_range_value(write_scene):
    problems, _ = errors_of(write_scene, GOOD + "encode:\n  crf: 60\n")
    assert problems[0][:2] == (13, "encode.crf")
    assert problems[0][2] == "write 51 or less (got 60)"


def test_out_of_range_keyframe(write_scene):
    problems, _ = errors_of(write_scene, GOOD + "motion:\n  zoom: {0: 1.0, 10: 5}\n")
    assert problems[0][1] == "motion.zoom"
    assert "keyframe 10: must be at most 2, got 5" in problems[0][2]


def test_segment_gap(write_scene):
    problems, _ = errors_of(write_scene, GOOD.replace("[10, 19]", "[12, 19]"))
    assert problems[0][:2] == (9, "segments.1.frames")
    assert "frames 10-11 without a segment (gap)" in problems[0][2]


def test_segment_overlap(write_scene):
    problems, _ = errors_of(write_scene, GOOD.replace("[10, 19]", "[8, 19]"))
    assert problems[0][:2] == (9, "segments.1.frames")
    assert "overlapping frames 8-9" in problems[0][2]


def test_segment_past_the_last_frame(write_scene):
    problems, _ = errors_of(write_scene, GOOD.replace("[10, 19]", "[10, 25]"))
    assert problems[0][:2] == (9, "segments.1.frames")
    assert "past the last frame 19" in problems[0][2]


def test_segments_must_reach_the_end(write_scene):
    problems, _ = errors_of(write_scene, GOOD.replace("frames: 20", "frames: 30"))
    assert problems[0][1] == "segments.1.frames"
    assert "extend the last segment to 29 or set frames: 20" in problems[0][2]


def test_missing_image(write_scene):
    problems, _ = errors_of(write_scene, GOOD.replace("logo.png", "missing.png"))
    assert problems[0][:2] == (5, "start")
    assert "missing.png' not found" in problems[0][2] and "'noise'" in problems[0][2]


def test_unreadable_image(write_scene, tmp_path):
    (tmp_path / "broken.png").write_bytes(b"not an image at all")
    problems, _ = errors_of(write_scene, GOOD.replace("logo.png", "broken.png"))
    assert problems[0][1] == "start" and "cannot read image" in problems[0][2]


def test_unknown_layer_lists_the_valid_ones(write_scene):
    problems, _ = errors_of(write_scene, GOOD.replace("layers: circles", "layers: cirles"))
    line, field, message = problems[0]
    assert (line, field) == (10, "segments.1.layers")
    assert "did you mean 'circles'?" in message
    for valid in ("edges", "circles", "patterns", "parts", "objects", "mixed_3", "conv_4"):
        assert valid in message


def test_unknown_model(write_scene):
    problems, _ = errors_of(write_scene, GOOD + "model: inceptoin_v3\n")
    assert problems[0][1] == "model" and "did you mean 'inception_v3'?" in problems[0][2]


def test_keyframe_outside_its_segment(write_scene):
    text = GOOD + "    motion:\n      zoom: {2: 1.01, 19: 1.05}\n"
    problems, _ = errors_of(write_scene, text)
    assert problems[0][:2] == (13, "segments.1.motion.zoom.2")
    assert "absolute frame numbers" in problems[0][2]


def test_transition_on_first_segment(write_scene):
    problems, _ = errors_of(write_scene, GOOD.replace("layers: edges", "layers: edges\n    transition: 3"))
    assert problems[0][1] == "segments.0.transition"


def test_frames_or_duration_exactly_one(write_scene):
    problems, _ = errors_of(write_scene, GOOD.replace("frames: 20", "frames: 20\nduration: 2s"))
    assert "exactly one" in problems[0][2]


def test_duration_sets_the_frame_count(write_scene):
    scene = load_scene(write_scene(GOOD.replace("frames: 20", 'duration: "0.5s"').replace("fps: 24", "fps: 40")))
    assert scene.frame_count == 20


def test_yaml_syntax_error_has_its_line(write_scene):
    problems, _ = errors_of(write_scene, GOOD.replace("fps: 24", "fps: [24"))
    assert problems[0][0] >= 3 and "YAML syntax error" in problems[0][2]


def test_duplicate_key(write_scene):
    problems, _ = errors_of(write_scene, GOOD + "fps: 30\n")
    assert problems[0] == (12, "fps", "appears twice")


def test_too_small_for_the_model(write_scene):
    problems, _ = errors_of(write_scene, GOOD.replace("[128, 96]", "[64, 48]"))
    assert problems[0][1] == "size" and "at least 75 pixels" in problems[0][2]


def test_several_problems_reported_together(write_scene):
    problems, _ = errors_of(write_scene, GOOD.replace("fps: 24", "fps: -1").replace("size: [128, 96]", "size: 128"))
    assert {p[1] for p in problems} == {"fps", "size"}


def test_scene_cannot_run_code(write_scene):
    problems, _ = errors_of(write_scene, GOOD + "seed: !!python/object/apply:os.system ['echo hacked']\n")
    assert "YAML syntax error" in problems[0][2]


def test_cli_exits_2_before_loading_the_model(write_scene, monkeypatch, capsys):
    import pipeline.models.network

    def must_not_load(*args, **kwargs):
        raise AssertionError("the model was loaded for a bad scene")

    monkeypatch.setattr(pipeline.models.network, "load_model", must_not_load)
    path = write_scene(GOOD.replace("layers: circles", "layers: cirles"))
    code = cli.main([str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{path}:10: segments.1.layers: unknown layer 'cirles'" in err
    assert "Traceback" not in err


def test_cli_missing_file_and_directory(tmp_path, capsys):
    assert cli.main([str(tmp_path / "nope.yaml")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert cli.main([str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


def test_dry_run_prints_the_plan(write_scene, capsys):
    path = write_scene(GOOD)
    assert cli.main([str(path), "--dry-run", "--full", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "segment 0: frames 0-9" in out and "segment 1: frames 10-19" in out
    assert "crossfade from segment 0 over 4 frames" in out
    assert "edges" in out and "circles" in out
    assert not (path.parent / "out.mp4").exists()


def test_class_needs_a_model_with_a_classifier(write_scene):
    problems, _ = errors_of(write_scene, GOOD.replace("layers: circles", "class: tabby"))
    assert problems[0][1] == "segments.1.class"
    assert "no classifier" in problems[0][2] and "efficientnet_lite0" in problems[0][2]


def test_unknown_class_suggests_one(write_scene):
    text = GOOD.replace("layers: circles", "class: tabbby") + "model: efficientnet_lite0\n"
    problems, _ = errors_of(write_scene, text)
    assert problems[0][1] == "segments.1.class" and "did you mean 'tabby'?" in problems[0][2]


def test_channel_out_of_range(write_scene):
    problems, _ = errors_of(write_scene, GOOD.replace("layers: circles", "channels: {conv_4: [3, 500]}"))
    assert problems[0][1] == "segments.1.channels" and "channels 0-191, not 500" in problems[0][2]


def test_guide_image_must_exist(write_scene):
    problems, _ = errors_of(write_scene, GOOD.replace("layers: circles", "guide: {image: nope.png}"))
    assert problems[0][1] == "segments.1.guide.image" and "not found" in problems[0][2]


def test_segment_must_say_what_to_dream(write_scene):
    problems, _ = errors_of(write_scene, GOOD.replace("    layers: circles\n", ""))
    assert problems[0][1] == "segments.1" and "layers, channels, class and/or guide" in problems[0][2]


def test_weights_file_must_exist(write_scene):
    problems, _ = errors_of(write_scene, GOOD + "weights: mine.pth\n")
    assert problems[0][:2] == (12, "weights") and "mine.pth' not found" in problems[0][2]


@pytest.mark.parametrize("objective, field", [
    ("layers: {edges: lots}", "segments.0.layers.edges"),
    ("channels: {'edges:3': lots}", "segments.0.channels.edges:3"),
    ("class: {tabby: lots}", "segments.0.class.tabby"),
    ("guide: {image: logo.png, weight: lots}", "segments.0.guide.weight"),
])
def test_a_bad_weight_expression_names_the_weight_and_lists_the_names_after_a_separator(write_scene, objective,
                                                                                         field):
    (problem,), _ = errors_of(write_scene, f"""
        size: [64, 48]
        frames: 4
        segments:
          - frames: [0, 3]
            {objective}
    """)
    line, where, message = problem
    assert (line, where) == (5, field), message
    assert message.startswith("expression 'lots': unknown name 'lots'; names: t, frame, beat"), message


def test_a_weight_out_of_range_names_the_layer(write_scene):
    (problem,), _ = errors_of(write_scene, """
        size: [64, 48]
        frames: 4
        segments:
          - frames: [0, 3]
            layers: {edges: 1, circles: 5000}
    """)
    assert problem[1] == "segments.0.layers.circles" and "between -1000 and 1000" in problem[2]
