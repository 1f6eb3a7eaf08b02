"""Each scene key is defined once: the key reference (kept on its docs page by test_docs.py),
the JSON Schema, messages, --dry-run and the sidecar all come from the models."""

import json
import shutil
import wave

import jsonschema
import pytest
import yaml

from pipeline import cli
from pipeline.scene import SceneError, load_scene
from pipeline.scene.reference import SCHEMA_FILE, json_schema, key_reference, schema_text
from pipeline.scene.schema import DREAM_DEFAULTS, DreamConfig, MotionConfig, Scene
from tests.helpers import LOGO, ROOT

SCENES = sorted((ROOT / "scenes").glob("*.yaml"))


def validator():
    return jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text()))


def as_an_editor_sees(text: str):
    """YAML as editors validate it: mapping keys are strings (keyframe 150 is "150")."""
    return json.loads(json.dumps(yaml.safe_load(text)))


def test_the_reference_has_every_public_key_and_no_internal_one():
    table = key_reference()
    for name in list(DreamConfig.model_fields) + ["motion.zoom", "segments[].class", "fade.in", "audio.file"]:
        assert f"`{name}`" in table or f"`dream.{name}`" in table
    assert "`rendered`" not in table and "_file" not in table
    assert "| `dream.octaves` | number 1 .. 8, keyframable | `2` |" in table  # bounds and the built-in default


def test_the_shipped_schema_is_the_generated_one(capsys):
    assert SCHEMA_FILE.read_text() == schema_text(), \
        "run `python -m pipeline schema > pipeline/scene/scene.schema.json`"
    assert cli.main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == json_schema()


@pytest.mark.parametrize("path", SCENES, ids=[p.name for p in SCENES])
def test_every_sample_scene_validates_against_the_schema(path):
    assert path.read_text().startswith("# yaml-language-server: $schema=../pipeline/scene/scene.schema.json\n")
    validator().validate(as_an_editor_sees(path.read_text()))
    load_scene(path)  # and the loader agrees


@pytest.mark.parametrize("mutation, where", [
    (lambda d: d.update(fsp=30), "fsp"),  # a misspelt top-level key
    (lambda d: d["segments"][0].update(layer="edges"), "layer"),  # one inside a segment
    (lambda d: d["motion"].update(zoom=5), "5"),  # out of range
    (lambda d: d["motion"].update(zoom={"10": 1.0, "ease": "wobbly"}), "wobbly"),  # a bad ease
    (lambda d: d.update(model="inceptoin_v3"), "inceptoin_v3"),
])
def test_the_schema_rejects_what_the_loader_rejects(mutation, where, tmp_path):
    data = as_an_editor_sees(SCENES[0].read_text())
    mutation(data)
    errors = list(validator().iter_errors(data))
    assert errors and any(where in error.message for error in errors), [e.message for e in errors]
    shutil.copy(LOGO, tmp_path / "logo.png")
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(SceneError):
        load_scene(tmp_path / "bad.yaml")


def test_the_schema_accepts_every_way_of_writing_a_value():
    """Forms the loader takes are forms the editor takes."""
    data = as_an_editor_sees(SCENES[0].read_text())
    data.update(duration="1m30s", audio={"file": "a.mp3", "fade_in": 1}, fade={"in": 1})
    data.pop("frames", None)
    data["motion"].update(translate={0: [0, 0], "1s": [2, -1], "ease": "hold"}, rotate="2 * sin(t)")
    data["dream"] = {"step": "0.002 * (1 + tri(t))"}
    data["segments"][0].update(layers={"edges": 0.5, "mixed_3": 1}, channels={"mixed_4": [1, 2], "mixed_3:4": 2.0},
                               guide={"image": "logo.png", "layers": ["parts"]})
    data["segments"][1].update(**{"class": [281, "tabby"], "start": "#fff", "blend": 2, "frames": ["5s", "299"]})
    data["segments"][0]["layers"]["edges"] = "0.5 + 0.5 * sin(t)"
    validator().validate(as_an_editor_sees(json.dumps(data)))


def test_messages_list_only_public_keys(tmp_path):
    (tmp_path / "s.yaml").write_text("size: [64, 64]\nframes: 1\nsegments: [{frames: [0, 0], layers: edges}]\n"
                                     "renderd: 1\n")
    with pytest.raises(SceneError) as caught:
        load_scene(tmp_path / "s.yaml")
    message = caught.value.render()
    assert "unknown key 'renderd'" in message and "Allowed here: output, size" in message
    assert "rendered" not in message.replace("renderd", "")


def test_defaults_and_dry_run_columns_come_from_the_fields(capsys):
    assert DREAM_DEFAULTS.octaves.at(0) == DreamConfig.model_fields["octaves"].json_schema_extra["default"]
    assert cli.main([str(SCENES[0]), "--dry-run", "--full", "--device", "cpu"]) == 0
    frame_line = next(line for line in capsys.readouterr().out.splitlines() if line.strip().startswith("frame"))
    for name in list(DreamConfig.model_fields) + list(MotionConfig.model_fields):
        assert f"{name} " in frame_line


def test_the_sidecar_writes_every_input_relative_to_itself(tmp_path):
    """Input keys are marked in the model: cut images, guides, weights, audio all follow the sidecar."""
    scenes, out = tmp_path / "scenes", tmp_path / "elsewhere" / "deep"
    (scenes / "images").mkdir(parents=True)
    out.mkdir(parents=True)
    for name in ("start.png", "cut.png", "guide.png"):
        shutil.copy(LOGO, scenes / "images" / name)
    with wave.open(str(scenes / "track.wav"), "wb") as track:  # a real (silent) sound track
        track.setnchannels(1), track.setsampwidth(2), track.setframerate(8000), track.writeframes(bytes(1600))
    scene = Scene.from_data({
        "size": [96, 96], "frames": 4, "start": "images/start.png", "audio": "track.wav",
        "segments": [{"frames": [0, 1], "layers": "edges"},
                     {"frames": [2, 3], "start": "images/cut.png", "guide": {"image": "images/guide.png"}}],
    }, base_dir=scenes)
    from pipeline.output.sidecar import sidecar_data

    data = sidecar_data(scene, out / "v.mp4", {})
    assert data["start"] == "../../scenes/images/start.png"
    assert data["segments"][1]["start"] == "../../scenes/images/cut.png"
    assert data["segments"][1]["guide"]["image"] == "../../scenes/images/guide.png"
    assert data["audio"] == {"file": "../../scenes/track.wav", "fade_in": 0.0, "fade_out": 0.0, "true_peak": -1.0}
    assert data["dream"]["octaves"] == 2  # built-in defaults written out
    (out / "v.mp4.yaml").write_text(yaml.safe_dump({k: v for k, v in data.items() if k != "rendered"}))
    again = load_scene(out / "v.mp4.yaml")
    assert [f.resolve() for f in again.input_files()] == [f.resolve() for f in scene.input_files()]
