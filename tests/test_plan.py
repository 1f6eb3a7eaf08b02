"""Planning: keyframes, overrides, crossfades and preview, resolved per frame."""

import copy

import pytest

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


def test_frames_the_motion_resamples_are_sharpened_by_default_still_ones_not(make_scene):
    """A zoom loop softens a little with every resampling; a still one is never resampled."""
    from pipeline.scene.schema import MOVING_SHARPEN

    data = {"size": [96, 80], "fps": 10, "frames": 6, "motion": {"zoom": {2: 1.0, 3: 1.02}},
            "segments": [{"frames": [0, 5], "layers": "edges"}]}
    default = make_plan(make_scene(data))
    assert [default.frames[n].sharpen[0] for n in range(6)] == [0.0, 0.0, 0.0] + [MOVING_SHARPEN] * 3
    panned = make_plan(make_scene({**data, "motion": {"translate": [1, 0]}}))
    assert panned.frames[1].sharpen[0] == MOVING_SHARPEN
    chosen = make_plan(make_scene({**data, "sharpen": {"amount": 0}}))
    assert [chosen.frames[n].sharpen[0] for n in range(6)] == [0.0] * 6
