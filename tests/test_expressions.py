"""Expressions: formulas of time for keyframable values and weights, checked at every frame before work."""

import math

import pytest

from pipeline import cli
from pipeline.plan import make_plan
from pipeline.scene import SceneError, load_scene

BASE = {"size": [96, 96], "fps": 10, "frames": 40, "bpm": 60,
        "segments": [{"at": 0, "layers": "edges"}]}


def test_formulas_give_their_value_at_every_frame(make_scene):
    scene = make_scene({**BASE, "motion": {"rotate": "2 * sin(2 * pi * t / 4)",
                                           "translate": ["3 * saw(t)", "frame / 10"],
                                           "zoom": "1.01 + 0.02 * square(beat)"},
                        "dream": {"step": "clamp(0.001 * frame, 0.002, 0.01)", "jitter": "8 + 8 * tri(t)"},
                        "color": {"strength": "smoothstep(0, 2, t) * 0.2"},
                        "sharpen": {"amount": "lerp(0, 1, min(t / 4, 1))"}})
    plan = make_plan(scene)
    for n in (0, 5, 13, 39):
        t = n / 10
        spec = plan.frames[n]
        assert spec.motion.rotate == pytest.approx(2 * math.sin(2 * math.pi * t / 4))
        assert spec.motion.translate == pytest.approx((3 * (t - math.floor(t)), n / 10))
        assert spec.motion.zoom == pytest.approx(1.03 if t - math.floor(t) < 0.5 else 1.01)
        assert spec.dream.step == pytest.approx(min(max(0.001 * n, 0.002), 0.01))
        u = min(t / 2, 1)
        assert spec.color_strength == pytest.approx(u * u * (3 - 2 * u) * 0.2)
        assert spec.sharpen[0] == pytest.approx(min(t / 4, 1))


def test_weights_may_be_formulas_and_crossfade(make_scene):
    scene = make_scene({**BASE, "segments": [
        {"at": 0, "layers": {"edges": "0.5 + 0.5 * cos(pi * t)", "circles": 1}},
        {"at": 20, "layers": "parts", "transition": 4, "guide": {"image": "logo.png", "weight": "t / 4"}}]})
    plan = make_plan(scene)
    weights = {term.label: w for term, w in plan.frames[10].terms.items()}
    assert weights == pytest.approx({"conv_4": 0.5 + 0.5 * math.cos(math.pi), "mixed_1": 1.0})
    fading = {term.label: w for term, w in plan.frames[21].terms.items()}
    assert fading["guide logo.png @ mixed_4"] == pytest.approx(2.1 / 4 * 2 / 5)
    assert fading["conv_4"] == pytest.approx((0.5 + 0.5 * math.cos(math.pi * 2.1)) * 3 / 5)


@pytest.mark.parametrize("value, message", [
    ("1 + tt", "unknown name 'tt'; did you mean 't'?"),
    ("1 +", "syntax error"),
    ("exp(t)", "exp() is not a function here"),
    ("__import__('os')", "__import__() is not a function here"),
    ("t.real", "attribute is not allowed"),
    ("[1, 2][0]", "is not allowed"),
    ("'a' * 3", "only numbers"),
    ("lambda: 1", "is not allowed"),
    ("2 ** 1000", "an exponent above 64 is refused"),
    ("9 ** 9 ** 9", "an exponent above 64 is refused"),
    ("1 / (t - 1)", "is not a finite number at frame 10 (t = 1 s)"),
    ("1 + t", "is above the maximum 2 at frame 11 (t = 1.1 s): it gives 2.1"),
    ("clamp(t)", "clamp() missing 2 required positional arguments"),
    ("t" + " + t" * 200, "characters long; at most 500"),
    ("sin", "sin is a function: write sin(...)"),
    ("9" * 400, "a number too large for arithmetic"),
    ("t < 1", "compare is not allowed"),
])
def test_each_kind_of_expression_error_is_refused_before_work(value, message, write_scene):
    path = write_scene(f"size: [96, 96]\nfps: 10\nframes: 40\nmotion:\n  zoom: \"{value}\"\n"
                       "segments:\n  - at: 0\n    layers: edges\n")
    with pytest.raises(SceneError) as caught:
        load_scene(path)
    line, field, text = caught.value.problems[0]
    assert (line, field) == (5, "motion.zoom") and message in text, text


def test_values_that_shape_the_captured_dream_refuse_formulas(make_scene):
    for key in ("octaves", "octave_scale", "iterations"):
        with pytest.raises(SceneError, match=f"dream.{key}: this value shapes the captured dream"):
            make_scene({**BASE, "dream": {key: "2"}})


def test_beat_in_a_formula_needs_bpm_and_weights_keep_their_bounds(make_scene):
    with pytest.raises(SceneError, match="counts beats: set bpm"):
        make_scene({**{k: v for k, v in BASE.items() if k != "bpm"}, "motion": {"zoom": "1 + 0.01 * beat"}})
    with pytest.raises(SceneError, match="below the minimum -1000"):
        make_scene({**BASE, "segments": [{"at": 0, "layers": {"edges": "-2000 * t"}}]})


@pytest.mark.slow
def test_a_formula_render_and_its_sidecar_render_the_same(make_scene, reuse_inception, tmp_path):
    import imageio.v3 as iio
    import numpy as np

    import pipeline

    scene = make_scene({"size": [96, 80], "fps": 6, "frames": 4, "start": "logo.png",
                        "dream": {"octaves": 1, "iterations": 1, "step": "0.01 + 0.01 * saw(t)"},
                        "motion": {"rotate": "5 * sin(2 * pi * t)", "translate": ["3 * t", 0]},
                        "segments": [{"at": 0, "layers": {"edges": "1 + t"}}]})
    first = pipeline.render(scene, out=tmp_path / "first.mp4", device="cpu", overwrite=True)
    again = pipeline.render(load_scene(tmp_path / "first.mp4.yaml"), out=tmp_path / "again.mp4", device="cpu")
    assert np.array_equal(iio.imread(first.path), iio.imread(again.path))


def test_dry_run_shows_formulas(write_scene, capsys):
    path = write_scene("size: [96, 96]\nframes: 10\nmotion: {rotate: '2 * sin(t)'}\ncolor: {strength: '0.1 * t'}\n"
                       "segments:\n  - at: 0\n    layers: {edges: '1 + t'}\n")
    assert cli.main([str(path), "--dry-run", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "strength '0.1 * t'" in out and "conv_4 '1 + t'" in out
