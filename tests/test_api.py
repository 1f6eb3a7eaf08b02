"""The Python API: scenes from data, a render in one call, and caches that stay bounded."""

import re
import subprocess
import sys

import imageio.v3 as iio
import numpy as np
import pytest
import torch

import pipeline
from pipeline.dream import engine as engine_module
from pipeline.plan import make_plan
from pipeline.session import recipe
from pipeline.session.recipe import Dreamer
from tests.helpers import ROOT, small_scene

TINY = {
    "size": [96, 80], "fps": 8, "frames": 4, "start": "logo.png",
    "dream": {"octaves": 1, "iterations": 1, "step": 0.03, "jitter": 4}, "motion": {"zoom": 1.05},
    "segments": [{"frames": [0, 3], "layers": "circles"}],
}


def test_importing_the_package_does_not_import_torch():
    code = "import sys, pipeline; assert callable(pipeline.render); print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "False", result.stderr


@pytest.mark.slow
def test_a_render_in_one_call(make_scene, reuse_inception, tmp_path):
    scene = pipeline.Scene.from_data(TINY, base_dir=tmp_path, name="tiny")
    seen = []
    result = pipeline.render(scene, out=tmp_path / "api.mp4", device="cpu", progress=lambda done, total: seen.append(
        (done, total)))
    assert result.path == tmp_path / "api.mp4" and result.frames == 4 and result.seconds > 0
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    frames = iio.imread(result.path)
    assert frames.shape == (4, 80, 96, 3)
    assert iio.immeta(result.path)["fps"] == pytest.approx(8)
    assert (tmp_path / "api.mp4.yaml").exists()  # the sidecar, as from the command
    again = pipeline.render(scene, out=tmp_path / "api.mp4", device="cpu", overwrite=True)
    assert again.frames == 4


@pytest.mark.slow
def test_the_default_output_is_beside_base_dir(make_scene, reuse_inception, tmp_path):
    scene = make_scene(small_scene(2), "named")
    assert pipeline.render(scene, device="cpu").path == tmp_path / "renders" / "named.mp4"


def test_a_bad_scene_or_output_is_an_exception_before_any_work(make_scene, tmp_path):
    with pytest.raises(pipeline.SceneError) as caught:
        pipeline.Scene.from_data({**TINY, "fps": "fast", "zoom": 2}, base_dir=tmp_path)
    message = caught.value.render()
    assert "fps: write a number (got 'fast')" in message and "unknown key 'zoom'" in message
    assert ":1:" not in message  # data has no lines to point at
    scene = make_scene(TINY)
    with pytest.raises(pipeline.SceneError, match="unsupported suffix"):
        pipeline.render(scene, out=tmp_path / "x.avi", device="cpu")
    with pytest.raises(pipeline.SceneError, match="which this render reads"):
        pipeline.render(scene, out=tmp_path, device="cpu")  # a PNG folder holding the start image
    with pytest.raises(ValueError, match="not a range"):
        pipeline.render(scene, out=tmp_path / "ok.mp4", device="cpu", frames=range(2, 9))
    assert not list(tmp_path.glob("*.mp4")) and not list(tmp_path.glob(".*"))  # nothing was started


CHANGING = {
    "size": [96, 80], "frames": 24, "start": "logo.png",
    "dream": {"octaves": 1, "iterations": 1, "step": 0.03, "jitter": 4},
    "segments": [  # a crossfade over every frame of every segment: the weights change each frame
        {"frames": [0, 3], "layers": "edges"},
        {"frames": [4, 7], "layers": "circles", "transition": 4},
        {"frames": [8, 11], "channels": {"mixed_3": [5]}, "transition": 4, "start": "#336699", "blend": 2},
        {"frames": [12, 15], "layers": {"parts": 1.0, "edges": 0.5}, "transition": 4},
        {"frames": [16, 19], "guide": {"image": "logo.png", "layers": "circles"}, "transition": 4},
        {"frames": [20, 23], "layers": "patterns", "transition": 4, "start": "noise", "blend": 2},
    ],
}


@pytest.mark.slow
def test_caches_stay_bounded_when_the_weights_change_every_frame(make_scene, inception, monkeypatch):
    plan = make_plan(make_scene(CHANGING), output=None)

    def render(bound):
        monkeypatch.setattr(engine_module, "OBJECTIVES_KEPT", bound)
        monkeypatch.setattr(engine_module, "TILE_SIZES_KEPT", bound)
        monkeypatch.setattr(recipe, "PICTURES_KEPT", bound)
        dreamer = Dreamer(plan, inception, torch.device("cpu"))
        frames, sizes = [], []
        for _, frame in dreamer.frames():
            frames.append(frame.clone())
            engine = dreamer.engine
            sizes.append(max(len(engine._objectives), len(engine._tile_pixels_for), len(dreamer.pictures)))
        return frames, sizes, dreamer

    roomy, roomy_sizes, dreamer = render(64)
    assert max(roomy_sizes) > 2, "the scene should need more than the tight bound"
    tight, tight_sizes, _ = render(2)
    assert max(tight_sizes) <= 2
    assert all(torch.equal(a, b) for a, b in zip(roomy, tight)), "evicting an entry must not change a frame"
    assert len({spec.index for spec in plan.frames if spec.terms}) == 24
    assert not np.allclose(roomy[3].numpy(), roomy[23].numpy())


def test_a_render_never_replaces_an_input_under_any_of_its_names(make_scene, tmp_path):
    """The partial video, the sidecar, the work folder and the lock are the render's names too."""
    from PIL import Image

    for name, out in (("x.part.gif", "x.gif"), ("x.gif.yaml", "x.gif"), (".x.gif.lock", "x.gif")):
        Image.open(tmp_path / "logo.png").save(tmp_path / name, format="PNG")
        before = (tmp_path / name).read_bytes()
        scene = make_scene({**TINY, "start": name})
        with pytest.raises(pipeline.SceneError, match=f"would replace .*{re.escape(name)}, which this render reads"):
            pipeline.render(scene, out=tmp_path / out, device="cpu", overwrite=True)
        assert (tmp_path / name).read_bytes() == before and not (tmp_path / out).exists()


def test_a_sidecar_that_is_not_the_renders_is_kept(make_scene, tmp_path):
    from pipeline.session.session import RenderRefused

    scene = make_scene(TINY)
    (tmp_path / "x.mp4.yaml").write_text("my notes\n")
    with pytest.raises(RenderRefused, match="x.mp4.yaml exists and is not this render's: add --overwrite"):
        pipeline.render(scene, out=tmp_path / "x.mp4", device="cpu")
    assert (tmp_path / "x.mp4.yaml").read_text() == "my notes\n"
    (tmp_path / "y.mp4.yaml").mkdir()
    with pytest.raises(RenderRefused, match="is a folder where the output's sidecar goes"):
        pipeline.render(scene, out=tmp_path / "y.mp4", device="cpu", overwrite=True)


@pytest.mark.parametrize("name", ["../escape", "/abs/x", "a/b", "", ".", "..", "new\nline"])
def test_a_scene_name_is_a_plain_file_name(name, tmp_path):
    with pytest.raises(ValueError, match="plain file name"):
        pipeline.Scene.from_data(TINY, base_dir=tmp_path, name=name)


@pytest.mark.parametrize("arguments, error", [
    ({"out": 5}, "out takes a path"), ({"device": None}, "device takes"), ({"progress": "yes"}, "progress takes"),
    ({"frames": [0, 1]}, "frames takes a range"), ({"checkpoint_every": 0}, "checkpoint_every takes"),
    ({"max_vram": -1}, "max_vram takes"), ({"frames": range(0, 3, 2)}, "consecutive frames"),
])
def test_unusable_arguments_are_refused_before_anything_starts(arguments, error, make_scene, tmp_path):
    with pytest.raises((TypeError, ValueError), match=error):
        pipeline.render(make_scene(TINY), **{"out": tmp_path / "x.mp4", "device": "cpu", **arguments})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["logo.png"]


@pytest.mark.parametrize("change, message", [
    ({"frames": True}, "frames: write a whole number"),
    ({"fps": "30"}, "fps: write a number"),
    ({"seed": True}, "seed: write a whole number"),
    ({"dream_start": "yes"}, "dream_start: write true or false"),
    ({"encode": {"crf": True}}, "encode.crf: write a whole number"),
    ({"fade": {"fade_in": 1}}, "unknown key 'fade_in'"),
    ({"audio": "logo.png"}, "has no sound track"),
])
def test_values_are_taken_as_written(change, message, make_scene):
    with pytest.raises(pipeline.SceneError, match=message):
        make_scene({**TINY, **change})
