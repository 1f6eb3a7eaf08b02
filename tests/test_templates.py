"""Templates: vars and ${name}, --set, --vary, CSV/JSONL batches and their resume, the API's vars= and set=."""

import json
import shutil
import subprocess
import sys

import pytest

from pipeline import load_scene
from pipeline.cli import commands as cli
from pipeline.scene import SceneError
from pipeline.scene.templates import read_scalar, scalar_text
from tests.conftest import ROOT

TEMPLATE = """
vars: {picture: logo.png, name: plain, z: 1.02}
output: renders/${name}.mp4
size: [80, 80]
fps: 8
frames: 2
seed: 0
start: ${picture}
weights: random
dream: {octaves: 1, iterations: 1, step: 0.03}
motion: {zoom: "${z}"}
segments:
  - frames: [0, 1]
    layers: edges
"""


def problems(path, **options) -> str:
    with pytest.raises(SceneError) as caught:
        load_scene(path, **options)
    return caught.value.render()


# vars and ${name}

def test_vars_fill_paths_outputs_and_numbers(write_scene):
    path = write_scene(TEMPLATE)
    scene = load_scene(path)
    assert scene.output_path == path.parent / "renders" / "plain.mp4"
    assert scene.start == "logo.png" and scene.input_files() == [path.parent / "logo.png"]
    assert scene.motion.zoom.plain() == 1.02  # "${z}" in a numeric key is the number
    shutil.copy(path.parent / "logo.png", path.parent / "my logo's.png")
    scene = load_scene(path, vars={"picture": "my logo's.png", "name": "-x y", "z": 1.01})
    assert scene.output_path.name == "-x y.mp4" and scene.start == "my logo's.png"
    assert scene.motion.zoom.plain() == 1.01


def test_a_var_in_an_expression_and_a_literal_dollar(write_scene):
    path = write_scene(TEMPLATE.replace('zoom: "${z}"', 'zoom: "1 + (${z} - 1) * t", rotate: 0')
                       .replace("renders/${name}.mp4", "renders/$${name}.mp4"))
    scene = load_scene(path)
    assert scene.motion.zoom.plain() == "1 + (1.02 - 1) * t"
    assert scene.output_path.name == "${name}.mp4"  # $${...} is the text itself


def test_an_unknown_var_is_named_with_its_line(write_scene):
    path = write_scene(TEMPLATE.replace("start: ${picture}", "start: ${pictur}"))
    assert f"{path}:7: start: unknown variable 'pictur'; did you mean 'picture'?" in problems(path)
    path = write_scene(TEMPLATE.replace("start: ${picture}", "start: ${two words}"), "b.yaml")
    assert f"{path}:7: start: '${{two words}}' is not a variable" in problems(path)


@pytest.mark.parametrize("value, expected", [
    ("{a: 1}", "a variable holds one value"), ("[[1, 2], [3]]", "a variable holds one value"),
    (".nan", "write a finite number"), (".inf", "write a finite number"), ("1.0e+400", "write a finite number"),
    ("100000000000000000000000", "is too large"), ("null", "got nothing (null)"),
])
def test_hostile_var_values_in_the_file_are_refused(write_scene, value, expected):
    path = write_scene(TEMPLATE.replace("z: 1.02}", f"z: {value}}}"))
    assert f"{path}:1: vars.z: " in problems(path) and expected in problems(path)


def test_a_huge_number_written_as_text_is_too_large_where_it_is_used(write_scene):
    path = write_scene(TEMPLATE.replace("z: 1.02}", "z: 1e400}"))  # YAML 1.1 reads this as text
    assert f"{path}:10: motion.zoom: expression '1e400': a number too large" in problems(path)


@pytest.mark.parametrize("value", ["a: b", "[1, 2]", "${z}", "'quoted'", '"x', "{{x}}", "!!python/object:os.system",
                                   "1 + t", "-rf", "*alias", "&anchor x", "$${z}"])
def test_a_value_stays_its_text(write_scene, value):
    """A var's value is text put into text: never structure, YAML, a second round of ${} or code."""
    path = write_scene(TEMPLATE)
    scene = load_scene(path, vars={"name": value})
    assert scene.output == f"renders/{value}.mp4"


def test_a_var_that_is_not_a_number_in_a_numeric_key_is_named(write_scene):
    path = write_scene(TEMPLATE)
    assert "vars['z']: z: motion.zoom: must be at most 2, got 5" in problems(path, vars={"z": 5})
    message = problems(path, vars={"z": "NaN"})
    assert message.startswith("vars['z']: z: motion.zoom: ") and "Traceback" not in message
    with pytest.raises(SceneError, match="got a list"):
        load_scene(path, vars={"z": [1, 2]})
    with pytest.raises(SceneError, match=r"vars\['zz'\]: zz: unknown variable 'zz'; did you mean 'z'"):
        load_scene(path, vars={"zz": 1})


def test_a_scene_without_vars_loads_as_before(write_scene):
    path = write_scene(TEMPLATE.replace("vars: {picture: logo.png, name: plain, z: 1.02}\n", "")
                       .replace("${picture}", "logo.png").replace("${name}", "n").replace('"${z}"', "1.02"))
    assert load_scene(path).motion.zoom.plain() == 1.02


def test_scalars_read_and_written_back():
    for text, value in [("0.003", 0.003), ("true", True), ("null", None), ("Dream on", "Dream on"),
                        ("a: b", "a: b"), ("[1, 2]", "[1, 2]"), ("", ""), ("1e-05", "1e-05"), ("12", 12)]:
        assert read_scalar(text) == value
    for value in [0.003, 1e-05, True, None, "Dream on", "1.5", "null", "a: b", 'say "hi"', "-x", 7, "ünï"]:
        assert read_scalar(scalar_text(value)) == value and type(read_scalar(scalar_text(value))) is type(value)


# --set

def run(*argv):
    return subprocess.run([sys.executable, str(ROOT / "render.py"), *map(str, argv)], capture_output=True, text=True,
                          timeout=600)


def test_set_changes_nested_and_list_paths(write_scene, capsys):
    path = write_scene(TEMPLATE)
    code = cli.main([str(path), "--dry-run", "--json", "--set", "dream.step=0.004", "--set", "segments.0.layers=parts",
                     "--set", "vars.z=1.05", "--set", "motion.rotate=0.5"])
    assert code == 0
    first = json.loads(capsys.readouterr().out.splitlines()[0])
    assert first["step"] == 0.004 and first["zoom"] == 1.05 and first["rotate"] == 0.5
    assert first["layers"] == {"mixed_4": 1.0}  # parts, on inception_v3


@pytest.mark.parametrize("flag, message", [
    ("dream.step=abc", "--set dream.step=abc: dream.step: expression 'abc': unknown name 'abc'"),
    ("encode.crf=1.5", "--set encode.crf=1.5: encode.crf: write a whole number"),
    ("fps=.nan", "--set fps=.nan: fps: write a finite number"),
    ("size.0=huge", "--set size.0=huge: size.0: write a whole number"),
    ("size.0=100000000000000000000", "--set size.0=100000000000000000000: size.0: "),
    ("segments.3.layers=parts", "--set segments.3.layers=parts: segments.3.layers: segments has 1 item (0-0), no item 3"),
    ("fps.x=1", "--set fps.x=1: fps.x: fps is a value (8), not a section"),
    ("dreem.step=1", "--set dreem.step=1: dreem.step: dreem: unknown key 'dreem'; did you mean 'dream'?"),
    ("vars.zz=1", "--set vars.zz=1: vars.zz: unknown variable 'zz'; did you mean 'z'?"),
    ("vars.z=[1, 2]", "--set vars.z=[1, 2]: vars.z: motion.zoom: "),
    ("fps", "--set fps: write PATH=VALUE"),
    ("=1", "--set =1: '' is not a key path"),
])
def test_a_bad_set_is_one_line_naming_the_flag(write_scene, capsys, flag, message):
    path = write_scene(TEMPLATE)
    assert cli.main([str(path), "--dry-run", "--set", flag]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err

