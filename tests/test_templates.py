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
from tests.helpers import ROOT, small_scene

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
                        ("a: b", "a: b"), ("[1, 2]", "[1, 2]"), ("", ""), ("1e-05", 1e-05), ("12", 12),
                        ("yes", "yes"), ("1:30", "1:30"), ("0x1F", "0x1F"), ("2024-01-01", "2024-01-01"),
                        ("'quoted'", "quoted"), ("+.5", 0.5), ("-.inf", float("-inf"))]:
        assert read_scalar(text) == value
    for value in [0.003, 1e-05, True, None, "Dream on", "1.5", "null", "a: b", 'say "hi"', "-x", 7, "ünï", "007", 1e300]:
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



@pytest.mark.parametrize("content, given, blamed", [
    ("Hi ${who} \u2603\U0001F389", "you", "scene.yaml:"),  # the file's own emoji: its line, whatever who is
    ("Hi ${who}", "\U0001F389", "--set vars.who="),  # the var brings the emoji: the flag
])
def test_a_problem_is_blamed_on_a_var_only_when_the_var_brings_it(write_scene, capsys, content, given, blamed):
    path = write_scene(small_scene(vars={"who": "world"}, text=[{"content": content}]))
    assert cli.main([str(path), "--dry-run", "--set", f"vars.who={given}"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{path}:" if blamed == "scene.yaml:" else blamed), err
    assert "no glyph for U+1F389" in err



# --batch

def rows_file(folder, text, name="rows.csv"):
    path = folder / name
    path.write_text(text)
    for sample in ("coffee.png", "cat.png"):
        shutil.copy(ROOT / "scenes" / "samples" / sample, folder / sample)
    return path


def report_of(path):
    return json.loads(path.read_text())


@pytest.mark.slow
def test_a_batch_skips_a_bad_row_and_exits_with_the_worst(write_scene, tmp_path, capsys):
    scene = write_scene(TEMPLATE)
    rows = rows_file(tmp_path, "picture,name,motion.zoom\ncoffee.png,coffee,1.01\nmissing.png,gone,1.01\n"
                               "cat.png,\"cat, purring\",1.02\n")
    code = cli.main([str(scene), "--batch", str(rows), "--device", "cpu", "--quiet", "--report",
                     str(tmp_path / "report.json")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "rows.csv:3: picture: start: image" in err and "missing.png' not found" in err
    assert "2 of 3 rows are valid" in err
    assert (tmp_path / "renders" / "coffee.mp4").is_file() and (tmp_path / "renders" / "cat, purring.mp4").is_file()
    report = report_of(tmp_path / "report.json")
    assert [(r["row"], r["status"]) for r in report["scenes"]] == [
        ("rows.csv:2", "done"), ("rows.csv:3", "invalid"), ("rows.csv:4", "done")]
    assert report["scenes"][2]["values"] == {"picture": "cat.png", "name": "cat, purring", "motion.zoom": 1.02}


@pytest.mark.parametrize("text, message", [
    ("picture,name\ncoffee.png,a,extra\n", "rows.csv:2: 3 values, but the header names 2 columns"),
    ("picture,name,motion.zoom\ncoffee.png,a\n", "rows.csv:2: 2 values, but the header names 3 columns"),
    ("picture,name,motion.zoom\ncoffee.png,a,.nan\n", "rows.csv:2: motion.zoom: the value must be a finite number"),
    ("picture,name,motion.zoom\ncoffee.png,a,1e999\n", "rows.csv:2: motion.zoom: "),
    ("picture,name,fps\ncoffee.png,a,fast\n", "rows.csv:2: fps: write a number (got 'fast')"),
    ("picture,name,size.0\ncoffee.png,a,99999999999999999999999\n", "rows.csv:2: size.0: "),
    ("picture,name,z\ncoffee.png,a,\"[1, 2]\"\n", "rows.csv:2: z: motion.zoom: "),
    ("picture,name\ncoffee.png,'; rm -rf /\n", None),  # a name like any other
    ("picture,name\n-rf.png,a\n", "rows.csv:2: picture: start: image"),
])
def test_hostile_cells_are_named_by_their_line(write_scene, tmp_path, capsys, text, message):
    scene = write_scene(TEMPLATE)
    rows = rows_file(tmp_path, text)
    assert cli.main([str(scene), "--batch", str(rows), "--dry-run"]) == (2 if message else 0)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if message:
        assert message in err, err


@pytest.mark.parametrize("text, message", [
    ("picture,produkt\ncoffee.png,a\n", "rows.csv:1: column 'produkt' is neither one of the scene's vars "
                                        "(picture, name, z) nor a scene key"),
    ("picture,picture\ncoffee.png,a\n", "rows.csv:1: column 'picture' appears twice"),
    ("picture,\ncoffee.png,a\n", "rows.csv:1: column 2 has no name"),
    ("", "has no rows"),
    ("picture\n\"coffee.png\n", "not CSV"),
])
def test_a_rows_file_that_cannot_be_used_is_refused_at_once(write_scene, tmp_path, capsys, text, message):
    scene = write_scene(TEMPLATE)
    assert cli.main([str(scene), "--batch", str(rows_file(tmp_path, text)), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def test_rows_that_would_write_one_file_are_refused_before_any_work(write_scene, tmp_path, capsys):
    scene = write_scene(TEMPLATE)
    rows = rows_file(tmp_path, "picture,name\ncoffee.png,same\ncat.png,other\ncat.png,same\n")
    assert cli.main([str(scene), "--batch", str(rows), "--device", "cpu", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"rows.csv:4: output {tmp_path / 'renders' / 'same.mp4'} is also rows.csv:2's" in err
    assert "Nothing rendered" in err and not (tmp_path / "renders").exists()


def test_jsonl_rows_and_their_lines(write_scene, tmp_path, capsys):
    scene = write_scene(TEMPLATE)
    rows = rows_file(tmp_path, '{"picture": "coffee.png", "name": "a"}\n\n{"picture": "cat.png", "z": NaN}\n'
                               '[1]\n{"name": {"nested": 1}}\nnot json\n', "rows.jsonl")
    assert cli.main([str(scene), "--batch", str(rows), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "rows.jsonl:3: z: write a finite number" in err
    assert "rows.jsonl:4: write one JSON object per line" in err
    assert "rows.jsonl:5: name: a variable holds one value" in err and "rows.jsonl:6: not JSON" in err
    assert "1 of 5 rows are valid" in err


@pytest.mark.slow
def test_batch_rows_spread_over_jobs(write_scene, tmp_path):
    scene = write_scene(TEMPLATE)
    rows = rows_file(tmp_path, "picture,name\ncoffee.png,coffee\ncat.png,-cat 'q'\n")
    result = run(scene, "--batch", rows, "--jobs", "2", "--device", "cpu", "--quiet", "--report",
                 tmp_path / "report.json")
    assert result.returncode == 0, result.stderr
    assert [r["status"] for r in report_of(tmp_path / "report.json")["scenes"]] == ["done", "done"]
    assert (tmp_path / "renders" / "-cat 'q'.mp4").is_file() and (tmp_path / "renders" / "coffee.mp4").is_file()


# re-running a batch

def sidecar(output):
    return (output.parent / (output.name + ".yaml")).read_text()


@pytest.mark.slow
def test_a_stopped_batch_resumed_renders_only_what_was_left(write_scene, tmp_path, monkeypatch, capsys):
    from pipeline.session import signals

    scene = write_scene(TEMPLATE.replace("frames: 2", "frames: 4").replace("[0, 1]", "[0, 3]"))
    rows = rows_file(tmp_path, "picture,name\ncoffee.png,one\ncat.png,two\nlogo.png,three\n")
    argv = [str(scene), "--batch", str(rows), "--device", "cpu", "--quiet", "--checkpoint-every", "1"]
    dreamed = []

    def stop_at(frames):
        def check(self):
            dreamed.append(1)
            if len(dreamed) == frames:
                raise signals.Stopped()
        return check

    monkeypatch.setattr(signals.StopRequest, "check", stop_at(6))  # in the second row, as a signal would
    assert cli.main(argv) == 130
    first_run = len(dreamed)
    renders = tmp_path / "renders"
    assert (renders / "one.mp4").is_file() and not (renders / "two.mp4").exists() and (renders / ".two.mp4.work").is_dir()
    one = sidecar(renders / "one.mp4")
    capsys.readouterr()

    dreamed.clear()
    monkeypatch.setattr(signals.StopRequest, "check", stop_at(0))
    assert cli.main(argv + ["--resume", "--report", str(tmp_path / "report.json")]) == 0
    out = capsys.readouterr()
    assert f"{renders / 'one.mp4'} is already rendered from this scene: kept" in out.err
    report = report_of(tmp_path / "report.json")["scenes"]
    assert [r["status"] for r in report] == ["kept", "done", "done"] and report[0]["output_sha256"]
    assert sidecar(renders / "one.mp4") == one  # not rendered again
    assert "resumed: true" in sidecar(renders / "two.mp4") and "resumed: false" in sidecar(renders / "three.mp4")
    per_row = first_run - 2  # the first row whole, then the second stopped at its second check
    assert len(dreamed) < per_row * 2 + 1, (first_run, len(dreamed))  # less than two whole rows

    dreamed.clear()  # a row whose values changed is named, and rendered again only with --overwrite
    rows.write_text("picture,name\ncoffee.png,one\ncoffee.png,two\nlogo.png,three\n")
    assert cli.main(argv + ["--resume"]) == 2
    err = capsys.readouterr().err
    assert f"{renders / 'two.mp4'} exists and it was rendered from other values: start, inputs." in err
    assert not dreamed
    assert cli.main(argv + ["--resume", "--overwrite"]) == 0
    assert f"Rendering {renders / 'two.mp4'} again: it was rendered from other values: start" in capsys.readouterr().err
    assert len(dreamed) == per_row  # that row only


# --vary

@pytest.mark.slow
def test_a_two_by_two_vary_makes_four_videos_and_a_labelled_grid(write_scene, tmp_path, capsys, monkeypatch):
    from PIL import Image

    from pipeline.output import sheets

    captions = []
    real = sheets.captioned_rows
    monkeypatch.setattr(sheets, "captioned_rows", lambda rows, **kw: captions.extend(c for c, _ in rows) or real(rows))
    monkeypatch.setattr("pipeline.cli.variants.captioned_rows", sheets.captioned_rows)
    scene = write_scene(TEMPLATE)
    code = cli.main([str(scene), "--vary", "motion.zoom=1.01,1.05", "--vary", "name=a b,c/d", "--device", "cpu",
                     "--quiet"])
    assert code == 0, capsys.readouterr().err
    renders = tmp_path / "renders"
    names = sorted(p.name for p in renders.glob("*.mp4"))
    assert names == ["plain.zoom-1.01.name-a_b.mp4", "plain.zoom-1.01.name-c_d.mp4",
                     "plain.zoom-1.05.name-a_b.mp4", "plain.zoom-1.05.name-c_d.mp4"]
    assert captions == ["motion.zoom = 1.01  name = a b", "motion.zoom = 1.01  name = c/d",
                        "motion.zoom = 1.05  name = a b", "motion.zoom = 1.05  name = c/d"]
    with Image.open(renders / "plain.variants.png") as grid:
        assert grid.width == 2 * 192  # two moments (frames 0 and 1), small frames shown at 192 px
        assert grid.height > 4 * 192


def test_vary_with_storyboard_makes_only_the_grid(write_scene, tmp_path, capsys):
    scene = write_scene(TEMPLATE)
    assert cli.main([str(scene), "--vary", "dream.step=0.01,0.05", "--storyboard", "--device", "cpu", "--quiet"]) == 0
    assert sorted(p.name for p in (tmp_path / "renders").iterdir()) == ["plain.variants.png"]


@pytest.mark.parametrize("flag, message", [
    ("motion.zoom", "--vary motion.zoom: write PATH=A,B,..."),
    ("zoom=1,2", "--vary zoom=1,2: the name 'zoom' is neither one of the scene's vars"),
    ("z=1,1", "--vary z=1,1: a value appears twice"),
])
def test_a_bad_vary_is_one_line(write_scene, capsys, flag, message):
    assert cli.main([str(write_scene(TEMPLATE)), "--vary", flag, "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and len(err.strip().splitlines()) == 1, err


def test_a_vary_value_out_of_range_names_the_flag(write_scene, capsys):
    assert cli.main([str(write_scene(TEMPLATE)), "--vary", "motion.zoom=1.01,5", "--dry-run"]) == 2
    assert "--vary motion.zoom=5: motion.zoom: must be at most 2, got 5" in capsys.readouterr().err


def test_vary_does_not_replace_a_grid_unasked(write_scene, tmp_path, capsys):
    scene = write_scene(TEMPLATE)
    (tmp_path / "renders").mkdir()
    (tmp_path / "renders" / "plain.variants.png").write_text("mine")
    assert cli.main([str(scene), "--vary", "dream.step=0.01,0.05", "--storyboard", "--device", "cpu"]) == 2
    assert "plain.variants.png exists: add --overwrite" in capsys.readouterr().err
    assert (tmp_path / "renders" / "plain.variants.png").read_text() == "mine"


# the Python API

def test_the_api_takes_vars_and_set(write_scene):
    path = write_scene(TEMPLATE)
    scene = load_scene(path, vars={"name": "tea"}, set={"dream.step": 0.01, "segments.0.layers": "parts"})
    assert scene.output_path.name == "tea.mp4" and scene.dream.step.plain() == 0.01
    assert scene.segments[0].layers == {"parts": 1.0}
    with pytest.raises(SceneError, match=r"set\['dream.step'\]: dream.step: must be at most 1, got 3"):
        load_scene(path, set={"dream.step": 3})
    with pytest.raises(TypeError, match="vars takes a dict"):
        load_scene(path, vars=["name"])
    with pytest.raises(ValueError, match=r"set\['a..b'\]: 'a..b' is not a key path"):
        load_scene(path, set={"a..b": 1})


def test_the_sample_batch_is_valid(capsys):
    code = cli.main([str(ROOT / "scenes" / "product.yaml"), "--batch", str(ROOT / "scenes" / "products.csv"),
                     "--dry-run"])
    out = capsys.readouterr().out
    assert code == 0
    assert "products.csv:4: product = logo, picture = logo.png" in out
    assert "renders/product/cat - Purr into a dream.mp4" in out


def test_an_override_is_part_of_the_resume_fingerprint(write_scene, tmp_path, monkeypatch, capsys):
    from pipeline.session import signals

    path = write_scene(TEMPLATE.replace("frames: 2", "frames: 4").replace("[0, 1]", "[0, 3]"))
    argv = [str(path), "--device", "cpu", "--quiet", "--checkpoint-every", "1", "--set", "dream.step=0.02"]
    seen = []

    def check(self):
        seen.append(1)
        if len(seen) == 3:
            raise signals.Stopped()

    monkeypatch.setattr(signals.StopRequest, "check", check)
    assert cli.main(argv) == 130
    monkeypatch.undo()
    capsys.readouterr()
    changed = argv[:-1] + ["dream.step=0.03", "--resume"]
    assert cli.main(changed) == 2
    assert "scene.dream.step" in capsys.readouterr().err
    assert cli.main(argv + ["--resume"]) == 0
    assert "resumed: true" in sidecar(tmp_path / "renders" / "plain.mp4")


@pytest.mark.slow
def test_a_batch_on_ray(write_scene, tmp_path):
    pytest.importorskip("ray")
    scene = write_scene(TEMPLATE)
    rows = rows_file(tmp_path, "picture,name\ncoffee.png,coffee\nmissing.png,gone\n")
    result = run(scene, "--batch", rows, "--ray", "--device", "cpu", "--quiet", "--report", tmp_path / "report.json")
    assert result.returncode == 2, result.stderr
    assert "rows.csv:3: picture: start: image" in result.stderr
    report = report_of(tmp_path / "report.json")["scenes"]
    assert [(r["row"], r["status"]) for r in report] == [("rows.csv:2", "done"), ("rows.csv:3", "invalid")]
    assert (tmp_path / "renders" / "coffee.mp4").is_file()


def test_scene_from_data_takes_vars_and_set(make_scene):
    data = {"vars": {"name": "x"}, "output": "renders/${name}.mp4", "size": [80, 80], "frames": 2, "start": "logo.png",
            "segments": [{"frames": [0, 1], "layers": "edges"}]}
    scene = make_scene(data)
    assert scene.output_path.name == "x.mp4"
    from pipeline import Scene

    scene = Scene.from_data(data, base_dir=scene.file.parent, vars={"name": "y"}, set={"fps": 12})
    assert scene.output_path.name == "y.mp4" and scene.fps == 12
    assert data["vars"] == {"name": "x"}  # the caller's data is left as it was
    nested = {**data, "dream": {"step": 0.01}}
    Scene.from_data(nested, base_dir=scene.file.parent, set={"dream.step": 0.02})
    assert nested["dream"] == {"step": 0.01}


def test_numbers_from_vars_in_every_kind_of_numeric_key(write_scene):
    path = write_scene(TEMPLATE.replace("vars: {", "vars: {w: 96, s: 7, d: '0.25', o: 0.5, ").replace(
        "size: [80, 80]", 'size: ["${w}", 80]').replace("seed: 0", 'seed: "${s}"').replace(
        "frames: 2\n", 'duration: "${d}"\noverlay: [{image: logo.png, opacity: "${o}"}]\n'))
    scene = load_scene(path)
    assert scene.size == (96, 80) and scene.seed == 7 and scene.frame_count == 2
    assert scene.overlay[0].opacity.plain() == 0.5
    assert scene.start == "logo.png"  # a key that takes text keeps it


def test_bad_var_names_are_refused(write_scene):
    path = write_scene(TEMPLATE.replace("vars: {", "vars: {a-b: 1, ").replace("z: 1.02}", "z: 1.02, 3: x}"))
    message = problems(path)
    assert "vars.a-b: 'a-b' is not a variable name" in message and "vars.3: '3' is not a variable name" in message


def test_a_var_cell_keeps_its_text(write_scene, tmp_path, capsys):
    """Product codes and taglines are text: 007 stays 007, yes stays yes, 1:30 stays 1:30."""
    scene = write_scene(TEMPLATE)
    rows = rows_file(tmp_path, "name,picture\n007,logo.png\nyes,logo.png\n1:30,logo.png\n.nan,logo.png\n")
    assert cli.main([str(scene), "--batch", str(rows), "--dry-run"]) == 2
    captured = capsys.readouterr()
    for name in ("007", "yes", "1:30"):
        assert f"renders/{name}.mp4" in captured.out
    assert "rows.csv:5: name: write a finite number" in captured.err
