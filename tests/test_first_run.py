"""The first minutes with the command: an existing output is asked about or refused before anything else,
a CUDA build without a GPU is named, messages speak the scene's words, the storyboard's grid fits its
tiles, a GIF states the rate it can hold, and the three doors are one command."""

import os
import pty
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import yaml
from PIL import Image

from pipeline.cli import main, replace
from pipeline.output.encoder import VideoWriter, gif_fps
from pipeline.output.sheets import contact_sheet, grid
from pipeline.plan import describe, make_plan
from pipeline.scene import SceneError, load_scene
from pipeline.session import devices
from tests.helpers import ROOT
from tests.test_architecture import poisoned_torch

TINY = {
    "size": [100, 76], "fps": 12, "frames": 3, "start": "logo.png",
    "dream": {"octaves": 1, "iterations": 1, "step": 0.03}, "motion": {"zoom": 1.05},
    "segments": [{"frames": [0, 2], "layers": "circles"}],
}
REFUSAL = "exists: add --overwrite to replace it, or --out to write elsewhere"


def tiny_scene(write_scene, **changes):
    return write_scene(yaml.safe_dump({**TINY, **changes}))


# ---------------------------------------------------------------- an existing output

def test_without_a_terminal_an_existing_output_is_refused_at_once(write_scene, tmp_path):
    """One line, exit 2, before anything else is said or loaded (torch would fail to import here)."""
    scene = tiny_scene(write_scene, output="clip.mp4")
    (tmp_path / "clip.mp4").write_bytes(b"an earlier render")
    result = subprocess.run([sys.executable, str(ROOT / "render.py"), str(scene)], capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, env=poisoned_torch(tmp_path), cwd=tmp_path, timeout=60)
    assert result.returncode == 2
    assert result.stderr == f"{tmp_path / 'clip.mp4'} {REFUSAL}\n" and not result.stdout
    assert (tmp_path / "clip.mp4").read_bytes() == b"an earlier render"


def test_at_a_terminal_means_stdin_and_stdout_are_both_terminals(monkeypatch):
    class Stream:
        def __init__(self, tty):
            self.tty = tty

        def isatty(self):
            return self.tty

    for stdin, stdout, expected in ((True, True, True), (True, False, False), (False, True, False)):
        monkeypatch.setattr(sys, "stdin", Stream(stdin))
        monkeypatch.setattr(sys, "stdout", Stream(stdout))
        assert replace.at_a_terminal() is expected


@pytest.fixture
def terminal(monkeypatch):
    """A terminal whose user types `answers` (EOFError once they run out)."""
    answers = []

    def typed():
        if not answers:
            raise EOFError
        return answers.pop(0)

    monkeypatch.setattr(replace, "at_a_terminal", lambda: True)
    monkeypatch.setattr("builtins.input", typed)
    return answers


@pytest.mark.parametrize("answer", ["n", "", None])
def test_at_a_terminal_the_user_is_asked_and_no_keeps_the_file(write_scene, tmp_path, capsys, terminal, answer):
    scene = tiny_scene(write_scene)
    out = tmp_path / "clip.mp4"
    out.write_bytes(b"an earlier render")
    if answer is not None:  # None: the input ends (Ctrl-D)
        terminal.append(answer)
    assert main([str(scene), "--out", str(out), "--device", "cpu", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{out} exists. Overwrite? [y/N] ")  # asked before anything else is said
    assert "Not overwriting" in err and "--overwrite" in err
    assert out.read_bytes() == b"an earlier render"


@pytest.mark.slow
def test_at_a_terminal_yes_replaces_the_output(write_scene, tmp_path, command, terminal):
    scene = tiny_scene(write_scene)
    out = tmp_path / "clip.mp4"
    out.write_bytes(b"an earlier render")
    terminal.append("y")
    result = command(scene, "--out", out, "--device", "cpu", "--quiet")
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith(f"{out} exists. Overwrite? [y/N] ")
    assert out.stat().st_size > 100 and out.read_bytes()[4:8] == b"ftyp"


def test_an_existing_storyboard_is_not_replaced_without_overwrite(write_scene, tmp_path, capsys):
    scene = tiny_scene(write_scene, output="clip.mp4")
    board = tmp_path / "clip.storyboard.png"
    board.write_bytes(b"approved yesterday")
    assert main([str(scene), "--storyboard", "--device", "cpu", "--quiet"]) == 2
    assert capsys.readouterr().err == f"{board} {REFUSAL}\n"
    assert board.read_bytes() == b"approved yesterday"


@pytest.mark.slow
def test_jobs_children_refuse_rather_than_ask_even_from_a_terminal(write_scene, tmp_path):
    """Started at a terminal (a pseudo-terminal here), a --jobs batch's children have nobody to ask."""
    scenes = [write_scene(yaml.safe_dump({**TINY, "output": f"s{i}.mp4"}), f"s{i}.yaml") for i in range(2)]
    for i in range(2):
        (tmp_path / f"s{i}.mp4").write_bytes(b"kept")
    main_end, child_end = pty.openpty()
    try:
        result = subprocess.run([sys.executable, str(ROOT / "render.py"), *map(str, scenes), "--jobs", "2",
                                 "--device", "cpu"], stdin=child_end, stdout=child_end, stderr=subprocess.PIPE,
                                text=True, timeout=120, cwd=tmp_path)
    finally:
        os.close(child_end)
        os.close(main_end)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count(REFUSAL) == 2 and "Overwrite?" not in result.stderr
    assert all((tmp_path / f"s{i}.mp4").read_bytes() == b"kept" for i in range(2))


# ---------------------------------------------------------------- a CUDA build without a GPU

@pytest.mark.slow
def test_a_cuda_build_without_a_gpu_is_named_on_the_first_line(write_scene, tmp_path, command, monkeypatch):
    import torch

    monkeypatch.setattr(torch.version, "cuda", "12.4")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert devices.cuda_build_without_gpu()
    result = command(tiny_scene(write_scene), "--out", tmp_path / "clip.mp4", "--quiet")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0] == ("note: CUDA build of PyTorch without a GPU: the CPU build is smaller; "
                                             "see README")
    monkeypatch.setattr(torch.version, "cuda", None)  # the CPU build
    assert not devices.cuda_build_without_gpu()
    monkeypatch.setattr(torch.version, "cuda", "12.4")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert not devices.cuda_build_without_gpu()


def test_the_readme_keeps_two_set_up_commands_and_names_the_cpu_build():
    readme = (ROOT / "README.md").read_text()
    set_up = readme.split("## Set up and run", 1)[1].split("\n## ", 1)[0]
    assert set_up.count("```bash") == 2 and set_up.count("```") == 4  # two commands, the note is prose
    assert "pip install torch torchvision --index-url https://download.pytorch.org/whl/cpu" in set_up
    assert set_up.index("python render.py") < set_up.index("python -m pipeline") < set_up.index("`dreamzoom`")


# ---------------------------------------------------------------- messages in the scene's words

@pytest.mark.parametrize("written, message", [
    ("size: 360x240", "size: write [360, 240]"),
    ("size: '1280 x 720'", "size: write [1280, 720]"),
    ("size: [360]", "size: write 2 values in [brackets], got 1"),
    ("size: [360, 240, 3]", "size: write at most 2 values, got 3"),
    ("size: [8, 240]", "size.0: write 16 or more (got 8)"),
    ("size: big", "size: write a list in [brackets] (got 'big')"),
])
def test_size_problems_say_what_to_write(write_scene, written, message):
    text = yaml.safe_dump({k: v for k, v in TINY.items() if k != "size"})
    with pytest.raises(SceneError) as caught:
        load_scene(write_scene(f"{written}\n{text}"))
    shown = caught.value.render()
    assert f"scene.yaml:1: {message}" in shown
    assert "Input should" not in shown and "valid tuple" not in shown


def test_the_preview_note_names_the_size_only_when_it_changed(write_scene):
    small = load_scene(tiny_scene(write_scene, size=[384, 216]))
    assert make_plan(small, preview=True).notes == ["preview: at most 4 (longer) steps per octave"]
    large = load_scene(tiny_scene(write_scene, size=[1280, 720]))
    assert make_plan(large, preview=True).notes == ["preview: 384x216 instead of 1280x720, "
                                                   "at most 4 (longer) steps per octave, octaves sized "
                                                   "as at full size (features keep their share of the frame)"]


@pytest.mark.parametrize("output, shown", [("a.mp4", True), ("a.webp", True), ("a.gif", False), ("a.mov", False),
                                           ("a.mkv", False), ("frames", False)])
def test_the_plan_shows_crf_only_for_formats_that_use_it(write_scene, output, shown):
    scene = load_scene(tiny_scene(write_scene, output=output, size=[100, 76]))
    assert ("crf 18" in describe(scene, make_plan(scene))) is shown


# ---------------------------------------------------------------- the storyboard's grid

@pytest.mark.parametrize("count, shape", [(1, (1, 1)), (2, (2, 1)), (3, (3, 1)), (4, (2, 2)), (5, (3, 2)),
                                          (6, (3, 2)), (7, (4, 2)), (8, (4, 2)), (9, (3, 3))])
def test_the_grid_fits_the_number_of_tiles(count, shape):
    columns, rows = grid(count)
    assert (columns, rows) == shape
    assert (rows - 1) * columns < count <= rows * columns  # no empty row
    assert columns * rows - count < columns  # empty cells only in the (centred) last row, fewer than a row


def test_a_short_last_row_is_centred_and_every_tile_labelled():
    colours = [(200, 0, 0), (0, 200, 0), (0, 0, 200), (200, 200, 0), (0, 200, 200)]
    tiles = [(f"frame {i}\nsegment 0: edges", Image.new("RGB", (160, 90), c)) for i, c in enumerate(colours)]
    sheet = contact_sheet(tiles)
    assert sheet.size == (3 * 160, 2 * 90)
    assert sheet.getpixel((159, 89)) == colours[0]  # bottom-right corners are clear of the label
    assert sheet.getpixel((80 + 159, 90 + 89)) == colours[3]  # the last row starts half a tile in
    assert sheet.getpixel((240 + 159, 90 + 89)) == colours[4]
    assert sheet.getpixel((40, 150)) == (0, 0, 0) and sheet.getpixel((440, 150)) == (0, 0, 0)
    for x, y in ((0, 0), (80, 90), (240, 90)):
        assert len(sheet.crop((x, y, x + 100, y + 30)).getcolors(4096)) > 2  # text over the tile


def test_storyboard_tiles_name_frame_time_segment_and_layers(write_scene):
    from pipeline.session.storyboard import tile_label

    segments = [{"frames": [0, 11], "layers": "edges"}, {"frames": [12, 23], "layers": ["circles", "patterns"]}]
    scene = load_scene(tiny_scene(write_scene, frames=24, segments=segments))
    plan = make_plan(scene)
    assert tile_label(scene, plan.frames[0]) == "frame 0  0.00 s\nsegment 0: edges"
    assert tile_label(scene, plan.frames[18]) == "frame 18  1.50 s\nsegment 1: circles, patterns"


# ---------------------------------------------------------------- GIF frame rates

@pytest.mark.parametrize("fps, held", [(30, 100 / 3), (24, 25), (25, 25), (15, 100 / 7), (12, 12.5), (10, 10),
                                       (60, 50), (120, 50), (29.97, 100 / 3), (1, 1)])
def test_the_gif_rate_is_the_nearest_whole_hundredths_delay(fps, held):
    assert gif_fps(fps) == pytest.approx(held)


def gif_delays(path):
    with Image.open(path) as image:
        delays = []
        for index in range(image.n_frames):
            image.seek(index)
            delays.append(image.info["duration"])
    return delays


@pytest.mark.parametrize("fps", [30, 24])
def test_a_gif_is_written_at_the_rate_it_can_hold(tmp_path, fps):
    """Every frame the same delay (30 fps would otherwise alternate 30, 40, 30 ms)."""
    writer = VideoWriter(tmp_path / "clip.gif", 40, 30, fps)
    for level in range(12):
        writer.write(np.asarray(Image.new("RGB", (40, 30), (20 * level, 0, 0))))
    writer.finish()
    assert gif_delays(tmp_path / "clip.gif") == [round(1000 / gif_fps(fps))] * 12


@pytest.mark.slow
def test_a_gif_render_states_and_keeps_its_rate(write_scene, tmp_path, command):
    out = tmp_path / "clip.gif"
    result = command(tiny_scene(write_scene), "--out", out, "--device", "cpu", "--quiet")
    assert result.returncode == 0, result.stderr
    rendering = next(line for line in result.stderr.splitlines() if line.startswith("Rendering"))
    assert "at 12.5 fps (a GIF's frame times are whole hundredths of a second: the nearest to 12)" in rendering
    assert gif_delays(out) == [80, 80, 80]


# ---------------------------------------------------------------- one command, three doors

@pytest.mark.slow
def test_the_three_doors_print_the_same_help(tmp_path):
    script = shutil.which("dreamzoom")
    console = [script] if script else [sys.executable, "-c", "import sys; sys.argv[0] = 'dreamzoom'; "
                                                               "from pipeline.cli import main; sys.exit(main())"]
    doors = {"render.py": [sys.executable, str(ROOT / "render.py")],
             "python -m pipeline": [sys.executable, "-m", "pipeline"], "dreamzoom": console}
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "120"}
    shown = {}
    for name, command in doors.items():
        result = subprocess.run(command + ["--help"], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"usage: {name} ")
        shown[name] = re.sub(r"\s+", " ", result.stdout).replace(name, "PROG")
    assert shown["render.py"] == shown["python -m pipeline"] == shown["dreamzoom"]
    assert "check VIDEO" in shown["render.py"]
