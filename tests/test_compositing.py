"""Keep the brand legible: overlays stay still and sharp on every frame, masks keep what they cover."""

import numpy as np
import pytest
import torch
from PIL import Image

from pipeline import SceneError, render
from pipeline.image.compositing import composite, overlay_origin
from pipeline.plan import make_plan

SMALL = {"size": [96, 76], "fps": 10, "seed": 2, "dream": {"octaves": 1, "iterations": 2, "step": 0.03, "jitter": 4}}


def frames_in(folder) -> np.ndarray:
    return np.stack([np.asarray(Image.open(p).convert("RGB")) for p in sorted(folder.glob("*.png"))]).astype(int)


def badge(path, size=(40, 20)) -> np.ndarray:
    """An RGBA picture: an opaque orange block inside a transparent margin."""
    rgba = np.zeros((size[1], size[0], 4), np.uint8)
    rgba[4:-4, 4:-4] = (250, 120, 20, 255)
    Image.fromarray(rgba).save(path)
    return rgba


@pytest.mark.slow
def test_an_overlay_is_on_every_frame_of_a_zoom_unchanged_and_never_dreamed_on(make_scene, reuse_inception,
                                                                                tmp_path):
    badge(tmp_path / "badge.png")
    scene = make_scene({**SMALL, "frames": 8, "start": "logo.png", "motion": {"zoom": 1.08},
                        "overlay": [{"image": "badge.png", "anchor": "top-left", "position": [0.25, 0.5],
                                     "width": 40 / 96}],
                        "segments": [{"at": 0, "layers": "circles"}]})
    frames = frames_in(render(scene, tmp_path / "frames", device="cpu").path)
    assert len(frames) == 8
    left, top = 24, 38  # the top-left corner at [0.25, 0.5] of 96x76
    region = frames[:, top + 4:top + 16, left + 4:left + 36]
    assert (region == np.array([250, 120, 20])).all()  # exactly the overlay, on every frame
    around = frames[:, :top - 2]
    assert np.abs(np.diff(around, axis=0)).mean() > 5  # while the world behind it zooms and dreams

    plain = make_scene({**scene._source[0], "overlay": []}, name="plain")
    without = frames_in(render(plain, tmp_path / "plain", device="cpu").path)
    assert np.array_equal(without[:, :top - 2], around)  # the overlay never feeds back into the dream


def test_overlay_fades_start_and_end(make_scene, tmp_path):
    badge(tmp_path / "badge.png")
    scene = make_scene({**SMALL, "frames": 30, "overlay": [
        {"image": "badge.png", "start": "1s", "end": 25, "fade_in": 0.4, "fade_out": 0.2, "opacity": "0.5 + 0 * t"}],
        "segments": [{"at": 0, "layers": "edges"}]})
    overlay = make_plan(scene).overlays[0]
    levels = [overlay.opacity_at(n) for n in range(30)]
    assert levels[:10] == [0.0] * 10 and levels[26:] == [0.0] * 4
    assert levels[10] == pytest.approx(0.5 / 5) and levels[14] == pytest.approx(0.5)  # 4 frames of fade in
    assert levels[25] == pytest.approx(0.5 / 3)  # 2 frames of fade out


def test_composite_keeps_what_hangs_over_the_edge_out():
    frame = torch.zeros(1, 3, 10, 10)
    overlay = torch.ones(1, 4, 4, 4)
    out = composite(frame, overlay, (-2, 8), 1.0)
    assert out[0, 0].sum() == 2 * 2 and out[0, 0, 8:, :2].eq(1).all()
    assert overlay_origin((100, 50), (20, 10), (1.0, 1.0), "bottom-right") == (80, 40)
    assert torch.equal(composite(frame, overlay, (20, 20), 1.0), frame)


@pytest.mark.slow
def test_a_mask_keeps_its_region_exactly_the_start_image_with_colour_matching_on(make_scene, reuse_inception,
                                                                                tmp_path):
    gray = np.full((76, 96), 255, np.uint8)
    gray[:, :40] = 0  # the left part is kept
    Image.fromarray(gray).save(tmp_path / "keep_left.png")
    scene = make_scene({**SMALL, "frames": 6, "start": "logo.png", "color": {"strength": 0.8},
                        "mask": "keep_left.png", "segments": [{"at": 0, "layers": "circles"}]})
    frames = frames_in(render(scene, tmp_path / "frames", device="cpu").path)
    assert np.array_equal(frames[:, :, :40], np.repeat(frames[:1, :, :40], 6, axis=0))  # kept, frame after frame
    assert np.abs(frames[-1, :, 44:] - frames[0, :, 44:]).mean() > 5  # the rest dreams

    inverted = make_scene({**scene._source[0], "mask": {"image": "keep_left.png", "invert": True, "feather": 4}},
                          name="inverted")
    frames = frames_in(render(inverted, tmp_path / "inverted", device="cpu").path)
    assert np.array_equal(frames[:, :, 60:], np.repeat(frames[:1, :, 60:], 6, axis=0))
    assert np.abs(frames[-1, :, :30] - frames[0, :, :30]).mean() > 5


@pytest.mark.slow
def test_mask_start_keeps_the_opaque_pixels_of_the_start_image(make_scene, reuse_inception, tmp_path):
    rgba = np.zeros((76, 96, 4), np.uint8)
    rgba[..., :3] = (30, 60, 200)
    rgba[20:56, 30:66] = (250, 250, 30, 255)  # an opaque square on transparency
    Image.fromarray(rgba).save(tmp_path / "cutout.png")
    scene = make_scene({**SMALL, "frames": 5, "start": "cutout.png", "mask": "start",
                        "segments": [{"at": 0, "layers": "circles"}]})
    frames = frames_in(render(scene, tmp_path / "frames", device="cpu").path)
    assert (frames[:, 21:55, 31:65] == np.array([250, 250, 30])).all()
    assert np.abs(frames[-1, :15] - frames[0, :15]).mean() > 5  # the transparent parts dream


def test_a_camera_mask_moves_with_the_zoom(make_scene, tmp_path):
    from pipeline.session.recipe import Dreamer

    gray = np.full((76, 96), 255, np.uint8)
    gray[28:48, 38:58] = 0
    Image.fromarray(gray).save(tmp_path / "spot.png")
    scene = make_scene({**SMALL, "frames": 5, "motion": {"zoom": 1.2},
                        "mask": {"image": "spot.png", "follows": "camera"}, "segments": [{"at": 0, "layers": "edges"}]})
    plan = make_plan(scene)
    dreamer = Dreamer.__new__(Dreamer)
    dreamer.plan, dreamer.device, dreamer.moving_mask = plan, torch.device("cpu"), None
    from pipeline.dream.caches import Recent

    dreamer.masks = Recent(4)
    kept = [float((dreamer.mask_now(plan.frames[n]) < 0.5).sum()) for n in range(4)]
    assert kept[0] == 400 and kept[1] > 400 * 1.3 and kept[3] > kept[2] > kept[1]  # the spot grows with the zoom


@pytest.mark.parametrize("keys, message", [
    ({"overlay": [{"image": "missing.png"}]}, "overlay.0.image: image '.*missing.png' not found"),
    ({"overlay": [{"image": "notes.txt"}]}, "overlay.0.image: .*notes.txt"),
    ({"mask": "missing.png"}, "mask.image: image '.*missing.png' not found"),
    ({"mask": "start"}, "mask.image: start uses the start image's transparency, but 'logo.png' has none"),
    ({"mask": {"image": "logo.png", "follows": "world"}}, "mask.follows"),
    ({"overlay": [{"image": "logo.png", "width": 0}]}, "overlay.0.width"),
    ({"overlay": [{"image": "logo.png", "end": 99}]}, "overlay.0.end: ends at 99, past the last frame 9"),
    ({"overlay": [{"image": "logo.png", "opacity": "2 * t"}]}, "overlay.0.opacity: expression '2 \\* t' is above"),
])
def test_bad_overlays_and_masks_are_refused_with_one_line(make_scene, tmp_path, keys, message):
    (tmp_path / "notes.txt").write_text("not a picture")
    with pytest.raises(SceneError) as caught:
        make_scene({**SMALL, "frames": 10, "start": "logo.png", "segments": [{"at": 0, "layers": "edges"}], **keys})
    assert len(caught.value.problems) == 1
    import re

    assert re.search(message, caught.value.render()), caught.value.render()


def test_sixteen_bit_masks_keep_their_levels_and_a_huge_feather_is_the_softest_edge(tmp_path):
    from pipeline.image.compositing import soft_mask
    from pipeline.image.pixels import cover_fit_gray

    ramp = np.tile(np.linspace(0, 65535, 96).astype(np.uint16), (76, 1))
    Image.fromarray(ramp).save(tmp_path / "ramp16.png")  # a 16-bit greyscale PNG
    gray = cover_fit_gray(tmp_path / "ramp16.png", 96, 76)
    assert gray[:, 0].max() <= 2 and gray[:, -1].min() >= 253 and 100 < gray[0, 48] < 155
    half = torch.zeros(1, 1, 76, 96)
    half[..., 48:] = 1.0
    edge = soft_mask(half, 500.0, False)[0, 0, 38]
    assert 0.1 < float(edge[40]) < float(edge[56]) < 0.9  # soft across the middle, not a hard step
