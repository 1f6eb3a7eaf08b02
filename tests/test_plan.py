"""Planning: keyframes, overrides, crossfades and preview, resolved per frame."""

import copy

import pytest

from pipeline.dream.core import octave_sizes
from pipeline.dream.objectives import LayerL2
from pipeline.scene.keyframes import Track
from pipeline.plan import Picture, make_plan

SCENE = {
    "size": [200, 100], "fps": 10, "frames": 30,
    "motion": {"zoom": 1.01, "translate": {0: [0, 0], 9: [9, -18]}},
    "dream": {"iterations": {0: 2, 29: 8}},
    "segments": [
        {"frames": [0, 9], "layers": "edges"},
        {"frames": [10, 29], "layers": {"circles": 0.5, "mixed_5": 2}, "transition": 3,
         "motion": {"zoom": {10: 1.0, 20: 1.1}}, "dream": {"step": 0.05}},
    ],
}


def scene_with(make_scene, size=(200, 100), top=None, second=None):
    """SCENE at `size`, with top-level keys and the second segment's keys changed."""
    data = copy.deepcopy(SCENE)
    data["size"] = list(size)
    data.update(top or {})
    data["segments"][1].update(second or {})
    return make_scene(data)


@pytest.fixture
def plan(make_scene):
    return make_plan(scene_with(make_scene))


def test_track_linear_smooth_and_hold():
    linear = Track(((10, 0.0), (20, 1.0)))
    assert [linear.at(f) for f in (0, 10, 15, 20, 99)] == [0.0, 0.0, 0.5, 1.0, 1.0]
    smooth = Track(((10, 0.0), (20, 1.0)), "smooth")
    assert smooth.at(15) == pytest.approx(0.5)
    assert smooth.at(12) < linear.at(12) and smooth.at(18) > linear.at(18)
    hold = Track(((10, 0.0), (20, 1.0)), "hold")
    assert hold.at(19) == 0.0 and hold.at(20) == 1.0
    vector = Track(((0, (0.0, 0.0)), (10, (10.0, -20.0))))
    assert vector.at(5) == (5.0, -10.0)


def test_every_frame_is_planned_once(plan):
    assert [f.index for f in plan.frames] == list(range(30))
    assert [f.segment for f in plan.frames] == [0] * 10 + [1] * 20
    assert (plan.width, plan.height, plan.fps) == (200, 100, 10)


def test_scene_keyframes_interpolate(plan):
    assert plan.frames[0].motion.translate == (0.0, 0.0)
    assert plan.frames[3].motion.translate == pytest.approx((3.0, -6.0))
    assert plan.frames[25].motion.translate == (9.0, -18.0)  # holds after the last key
    assert [plan.frames[n].dream.iterations for n in (0, 29)] == [2, 8]


def test_segment_overrides_replace_scene_settings(plan):
    assert plan.frames[5].motion.zoom == 1.01
    assert plan.frames[15].motion.zoom == pytest.approx(1.05)
    assert plan.frames[5].dream.step == 0.002  # built-in default
    assert plan.frames[15].dream.step == 0.05


def test_aliases_and_weights_resolve(plan):
    assert plan.frames[0].terms == {LayerL2("conv_4"): 1.0}
    assert plan.frames[29].terms == {LayerL2("mixed_1"): 0.5, LayerL2("mixed_5"): 2.0}


def test_crossfade_moves_weight_from_one_segment_to_the_next(plan):
    fade = [plan.frames[n].terms for n in (10, 11, 12, 13)]
    old = [w.get(LayerL2("conv_4"), 0.0) for w in fade]
    new = [w.get(LayerL2("mixed_5"), 0.0) for w in fade]
    assert old == pytest.approx([0.75, 0.5, 0.25, 0.0])
    assert new == pytest.approx([0.5, 1.0, 1.5, 2.0])
    assert LayerL2("conv_4") not in plan.frames[13].terms


def test_preview_shrinks_size_iterations_and_pixel_settings(make_scene):
    scene = scene_with(make_scene, (1280, 720))
    full, preview = make_plan(scene), make_plan(scene, preview=True)
    assert (preview.width, preview.height) == (384, 216)
    assert max(f.dream.iterations for f in preview.frames) == 4
    assert preview.frames[9].motion.translate == pytest.approx((9 * 0.3, -18 * 0.3))
    assert preview.frames[0].dream.jitter < full.frames[0].dream.jitter
    assert any("preview" in note for note in preview.notes)


def test_preview_leaves_out_the_octaves_its_shrinking_stands_in_for(make_scene):
    """The network's features have a fixed size in pixels: the preview's smallest octave, which sets
    the largest features, stays about as many pixels as the full render's, so eyes and spirals take
    about the same share of the frame in both."""
    scene = scene_with(make_scene, (1280, 720), top={"dream": {"octaves": 6, "octave_scale": 1.4}})
    full, preview = make_plan(scene), make_plan(scene, preview=True)
    assert full.frames[5].dream.octaves == 6
    assert preview.frames[5].dream.octaves == 2
    smallest_full = octave_sizes(720, 1280, 6, 1.4, 75)[0]
    smallest_preview = octave_sizes(preview.height, preview.width, 2, 1.4, 75)[0]
    assert smallest_full[1] / 1.4 < smallest_preview[1] < smallest_full[1] * 1.4
    assert "octaves sized as at full size" in preview.notes[0]
    assert make_plan(scene_with(make_scene, (200, 100)), preview=True).frames[5].dream.octaves == 2
    few = scene_with(make_scene, (1280, 720), top={"dream": {"octaves": 2}})
    assert make_plan(few, preview=True).frames[5].dream.octaves == 1


def test_feature_scale_dreams_a_smaller_top_octave_and_the_preview_keeps_its_pixels(make_scene):
    scene = scene_with(make_scene, (1280, 720), top={"dream": {"octaves": 4, "feature_scale": 2, "jitter": 20}})
    full, preview = make_plan(scene), make_plan(scene, preview=True)
    assert (full.frames[5].dream.octaves, full.frames[5].dream.top, full.frames[5].dream.jitter) == (4, 0.5, 20)
    top_full = octave_sizes(720, 1280, 4, 1.4, 75, full.frames[5].dream.top)
    assert top_full[-1] == (360, 640)
    dreamt = preview.frames[5].dream  # 384 px wide: smaller than the full render's 640 px top octave
    assert (dreamt.octaves, dreamt.top, dreamt.jitter) == (2, 1.0, 12)
    smallest_preview = octave_sizes(preview.height, preview.width, dreamt.octaves, 1.4, 75, dreamt.top)[0]
    assert top_full[0][1] / 1.4 < smallest_preview[1] < top_full[0][1] * 1.4
    coarse = make_plan(scene_with(make_scene, (1280, 720), top={"dream": {"feature_scale": 4}}), preview=True)
    assert coarse.frames[5].dream.top == pytest.approx(320 / 384)  # 1280/4 px of the 384 px preview
    assert coarse.frames[5].dream.octaves == 2


def test_preview_never_goes_below_the_model_minimum(make_scene):
    scene = scene_with(make_scene, (2000, 100))
    preview = make_plan(scene, preview=True)
    assert preview.height >= 75


def test_odd_size_rounds_to_even_with_a_note(make_scene):
    plan = make_plan(scene_with(make_scene, (201, 99)))
    assert (plan.width, plan.height) == (202, 100)
    assert "even" in plan.notes[0]


def test_transition_crossfades_motion_too(make_scene):
    plan = make_plan(scene_with(make_scene, second={"motion": {"zoom": 1.21}}))
    zooms = [plan.frames[n].motion.zoom for n in (9, 10, 11, 12, 13)]
    assert zooms == pytest.approx([1.01, 1.06, 1.11, 1.16, 1.21])


def test_segment_cut_blends_into_the_new_start(make_scene):
    plan = make_plan(scene_with(make_scene, second={"transition": 0, "start": "#ff0000", "blend": 4}))
    red = Picture(color="#ff0000")
    assert [plan.frames[n].cut for n in (9, 10, 11, 13, 14)] == [
        None, (red, 0.25), (red, 0.5), (red, 1.0), None,
    ]


def test_sharpen_and_resample_reach_every_frame(make_scene):
    plan = make_plan(scene_with(make_scene, top={"sharpen": {"amount": {0: 0.0, 29: 1.0}, "radius": 2},
                                                 "motion": {**SCENE["motion"], "resample": "bilinear"}}))
    assert plan.frames[0].sharpen == (0.0, 2.0) and plan.frames[29].sharpen == (1.0, 2.0)
    assert {f.motion.resample for f in plan.frames} == {"bilinear"}


def test_no_frame_is_sharpened_unless_the_scene_asks(make_scene):
    """Bicubic resampling keeps a zoom loop's detail; sharpening every frame builds up into a fine maze."""
    data = {"size": [96, 80], "fps": 10, "frames": 6, "motion": {"zoom": {2: 1.0, 3: 1.02}},
            "segments": [{"frames": [0, 5], "layers": "edges"}]}
    assert [make_plan(make_scene(data)).frames[n].sharpen[0] for n in range(6)] == [0.0] * 6
    chosen = make_plan(make_scene({**data, "sharpen": {"amount": 0.2}}))
    assert [chosen.frames[n].sharpen[0] for n in range(6)] == [0.2] * 6