"""End to end: real scenes, the real default model, real ffmpeg, read back with imageio."""

import copy
import re
import signal
import subprocess
import sys
import warnings

import imageio.v3 as iio
import numpy as np
import pytest
import yaml

from pipeline.session.session import render
from pipeline.plan import make_plan
from pipeline.scene import Scene, load_scene
from tests.helpers import ROOT, wait_until

SHORT = """
output: renders/short.mp4
size: [128, 96]
fps: 12
frames: 12
seed: 1
start: logo.png
dream:
  octaves: 2
  iterations: 2
  step: 0.03
motion:
  zoom: 1.05
segments:
  - frames: [0, 5]
    layers: edges
  - frames: [6, 11]
    layers: circles
    transition: 2
"""


def differs(a, b, threshold=1.0):
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean()) > threshold


@pytest.mark.slow
def test_render_command_writes_the_video(write_scene, command):
    scene_file = write_scene(SHORT)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")  # Python's default filters: what `python render.py` would print
        for hidden in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
            warnings.simplefilter("ignore", hidden)
        result = command(scene_file, "--device", "cpu", "--full")
    assert result.returncode == 0, result.stderr
    video = scene_file.parent / "renders" / "short.mp4"
    assert f"Video: {video}" in result.stdout
    assert "Done: 12 frames" in result.stdout and "on cpu" in result.stdout
    assert not [str(w.message) for w in caught]
    assert "Warning" not in result.stderr and "warn" not in result.stderr.lower()
    assert not (video.parent / "short.part.mp4").exists()

    frames = iio.imread(video)
    assert frames.shape == (12, 96, 128, 3)
    assert iio.immeta(video)["fps"] == pytest.approx(12)
    assert all(differs(frames[i], frames[i + 1]) for i in range(11))


@pytest.mark.slow
def test_segments_change_what_is_dreamed(write_scene, inception, tmp_path):
    videos = []
    # Lossless PNG frames: x264's look-ahead would otherwise let later frames shift earlier ones.
    for name, layer in (("a", "circles"), ("b", "objects")):
        scene = load_scene(write_scene(SHORT.replace("layers: circles", f"layers: {layer}"), f"{name}.yaml"))
        out = tmp_path / f"{name}_frames"  # a folder "a" would put its sidecar a.yaml over the scene
        render(scene, make_plan(scene, output=out), out, "cpu", progress=False, net=inception)
        videos.append(read_frames(out))
    assert len(videos[0]) == len(videos[1]) == 12
    a, b = videos
    assert all(not differs(a[i], b[i], 0.0) for i in range(6)), "the first segment must not change"
    assert all(differs(a[i], b[i]) for i in range(7, 12))


@pytest.mark.slow
def test_preview_is_announced_when_no_gpu_is_used(write_scene, command):
    text = SHORT.replace("[128, 96]", "[800, 600]").replace("frames: 12", "frames: 1").replace("[0, 5]", "[0, 0]")
    text = text.replace("octaves: 2", "octaves: 1").replace("iterations: 2", "iterations: 1")
    scene_file = write_scene(text.split("  - frames: [6, 11]")[0])
    result = command(scene_file, "--device", "cpu", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "PREVIEW" in result.stderr and "--full" in result.stderr
    assert iio.imread(scene_file.parent / "renders" / "short.mp4").shape[1:3] == (288, 384)


# Every scene key must visibly change the output.
BASE = {
    "size": [160, 112],
    "fps": 10,
    "frames": 3,
    "seed": 0,
    "start": "logo.png",
    "dream_start": False,
    "dream": {"octaves": 1, "octave_scale": 1.4, "iterations": 2, "step": 0.03, "jitter": 4, "smooth": 0.5},
    "motion": {"zoom": 1.05, "rotate": 0.0, "translate": [0, 0]},
    "segments": [{"frames": [0, 2], "layers": "circles"}],
    "encode": {"crf": 18},
}
# key -> (what the baseline sets first, the change under test)
VARIANTS = {
    "dream.octaves": ({}, {"dream": {"octaves": 2}}),
    "dream.octave_scale": ({"dream": {"octaves": 2}}, {"dream": {"octave_scale": 1.2}}),
    "dream.iterations": ({}, {"dream": {"iterations": 4}}),
    "dream.step": ({}, {"dream": {"step": 0.06}}),
    "dream.jitter": ({}, {"dream": {"jitter": 0}}),
    "dream.smooth": ({}, {"dream": {"smooth": 3.0}}),
    "motion.zoom": ({}, {"motion": {"zoom": 0.9}}),
    "motion.rotate": ({}, {"motion": {"rotate": 8.0}}),
    "motion.translate": ({}, {"motion": {"translate": [10, -5]}}),
    "seed": ({}, {"seed": 7}),
    "start": ({}, {"start": "#336699"}),
    "dream_start": ({}, {"dream_start": True}),
    "layers": ({}, {"segments": [{"frames": [0, 2], "layers": "edges"}]}),
    "segment dream": ({}, {"segments": [{"frames": [0, 2], "layers": "circles", "dream": {"step": 0.08}}]}),
    "segment motion": ({}, {"segments": [{"frames": [0, 2], "layers": "circles", "motion": {"zoom": 0.9}}]}),
    "channels": ({}, {"segments": [{"frames": [0, 2], "layers": "circles", "channels": {"mixed_3": [5]}}]}),
    "guide": ({}, {"segments": [{"frames": [0, 2], "layers": "circles", "guide": {"image": "logo.png", "weight": 3}}]}),
    "class": (
        {"model": "efficientnet_lite0", "segments": [{"frames": [0, 2], "layers": "circles"}]},
        {"segments": [{"frames": [0, 2], "layers": "circles", "class": {"goldfish": 5.0}}]},
    ),
    "model": ({}, {"model": "vgg19"}),
    "weights": ({}, {"weights": "random"}),
    "color.strength": ({}, {"color": {"strength": 0.8}}),
    "color.mode": ({"color": {"strength": 0.9}}, {"color": {"mode": "luma"}}),
    "sharpen.amount": ({}, {"sharpen": {"amount": 1.5}}),
    "sharpen.radius": ({"sharpen": {"amount": 1.5}}, {"sharpen": {"radius": 3.0}}),
    "motion.resample": ({}, {"motion": {"resample": "bilinear"}}),
    "segment start": (
        {"segments": [{"frames": [0, 0], "layers": "circles"}, {"frames": [1, 2], "layers": "circles"}]},
        {"segments": [{"frames": [0, 0], "layers": "circles"},
                      {"frames": [1, 2], "layers": "circles", "start": "#ff0000"}]},
    ),
    "segment blend": (
        {"segments": [{"frames": [0, 0], "layers": "circles"},
                      {"frames": [1, 2], "layers": "circles", "start": "#ff0000"}]},
        {"segments": [{"frames": [0, 0], "layers": "circles"},
                      {"frames": [1, 2], "layers": "circles", "start": "#ff0000", "blend": 2}]},
    ),
    "segment transition (motion)": (
        {"segments": [{"frames": [0, 0], "layers": "circles"},
                      {"frames": [1, 2], "layers": "circles", "motion": {"zoom": 0.8}}]},
        {"segments": [{"frames": [0, 0], "layers": "circles"},
                      {"frames": [1, 2], "layers": "circles", "motion": {"zoom": 0.8}, "transition": 2}]},
    ),
    "fade": ({}, {"fade": {"in": 0.2}}),
    "color.reference": (
        {"dream_start": True, "dream": {"step": 0.1}, "color": {"strength": 0.8}},
        {"color": {"reference": "first"}},
    ),
}


def merged(base: dict, patch: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


@pytest.fixture(scope="module")
def render_variant(inception, tmp_path_factory):
    folder = tmp_path_factory.mktemp("variants")
    (folder / "logo.png").write_bytes((ROOT / "scenes" / "logo.png").read_bytes())

    rendered = {}  # identical scenes render once

    def run(name, data, suffix=".mp4"):
        """Render `data` to NAME.mp4, or with suffix "" to a folder of PNG frames (lossless, and no
        encoding and decoding to wait for)."""
        text = yaml.safe_dump(data)
        if (text, suffix) not in rendered:
            name = re.sub(r"[^\w-]+", "_", name)  # a folder name without a dot (that would be a format)
            scene = Scene.from_data(data, base_dir=folder, name=name)
            out = rendered[text, suffix] = folder / f"{name}{suffix}"
            default_net = scene.model == "inception_v3" and scene.weights == "pretrained"
            net = inception if default_net else None  # other models load their own
            render(scene, make_plan(scene, output=out), out, "cpu", progress=False, net=net)
        return rendered[text, suffix]

    return run


def read_frames(path):
    if path.is_dir():
        return np.stack([iio.imread(frame) for frame in sorted(path.glob("*.png"))])
    return iio.imread(path)


@pytest.mark.slow
@pytest.mark.parametrize("key", list(VARIANTS))
def test_every_key_changes_the_output(key, render_variant):
    setup, change = VARIANTS[key]
    baseline = merged(BASE, setup)
    base = read_frames(render_variant(f"base-{key}", baseline, suffix=""))
    changed = read_frames(render_variant(key, merged(baseline, change), suffix=""))
    assert len(base) == BASE["frames"]
    assert changed.shape == base.shape
    assert any(differs(base[i], changed[i]) for i in range(len(base))), key


@pytest.mark.slow
def test_encode_keys_change_the_file(render_variant):
    data = copy.deepcopy(BASE)
    data["encode"] = {"crf": 40, "preset": "ultrafast"}
    data["fps"] = 25
    small = render_variant("crf40", data)
    base = render_variant("base", BASE)
    assert small.stat().st_size < base.stat().st_size
    assert iio.immeta(small)["fps"] == pytest.approx(25)


@pytest.mark.slow
def test_same_seed_renders_the_same_video(render_variant):
    first = iio.imread(render_variant("base", BASE))
    again = iio.imread(render_variant("base_again", merged(BASE, {"output": "again.mp4"})))
    assert np.array_equal(first, again)


@pytest.mark.slow
def test_ctrl_c_keeps_a_playable_partial_video(write_scene):
    scene_file = write_scene(SHORT.replace("frames: 12", "frames: 400").replace("[6, 11]", "[6, 399]"))
    partial = scene_file.parent / "renders" / "short.part.mp4"
    checkpoint = scene_file.parent / "renders" / ".short.mp4.work" / "checkpoint.pt"
    process = subprocess.Popen(  # a real Ctrl-C needs a process of its own
        [sys.executable, str(ROOT / "render.py"), str(scene_file), "--device", "cpu", "--full", "--quiet",
         "--checkpoint-every", "5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    work = checkpoint.parent
    try:  # a piece checkpointed, and frames of the next one on their way
        wait_until(lambda: checkpoint.exists() and any(work.glob("piece_000005*")), "the second piece", process)
    finally:
        process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "Interrupted" in err and str(partial) in err and "--resume" in err and "Traceback" not in err
    assert "Warning" not in err and "warn" not in err.lower()  # a fresh process's imports included
    assert checkpoint.exists()
    assert not (scene_file.parent / "renders" / "short.mp4").exists()
    frames = iio.imread(partial)
    assert 1 <= frames.shape[0] < 400 and frames.shape[1:] == (96, 128, 3)


@pytest.mark.slow
def test_odd_size_renders_at_the_next_even_size(write_scene, inception, tmp_path):
    text = SHORT.replace("[128, 96]", "[129, 97]").replace("frames: 12", "frames: 2")
    text = text.replace("[0, 5]", "[0, 0]").replace("[6, 11]", "[1, 1]").replace("transition: 2", "")
    scene = load_scene(write_scene(text))
    plan = make_plan(scene)
    out = tmp_path / "odd.mp4"
    render(scene, plan, out, "cpu", progress=False, net=inception)
    assert iio.imread(out).shape == (2, 98, 130, 3)
    assert any("130x98" in note for note in plan.notes)
