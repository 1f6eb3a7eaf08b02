"""Motion: zoom, rotation and panning move content the documented way, with no black borders."""

import pytest
import torch

from pipeline.image.motion import warp


def centroid(image):
    weights = image[0, 0]
    ys, xs = torch.meshgrid(
        torch.arange(weights.shape[0], dtype=torch.float32),
        torch.arange(weights.shape[1], dtype=torch.float32),
        indexing="ij",
    )
    return (float((weights * xs).sum() / weights.sum()), float((weights * ys).sum() / weights.sum()))


def dot(x, y, width=200, height=100):
    image = torch.zeros(1, 3, height, width)
    image[..., y - 2 : y + 3, x - 2 : x + 3] = 1.0
    return image


def test_zoom_in_moves_content_outward():
    before = dot(130, 60)  # right of and below the centre (100, 50)
    x, y = centroid(warp(before, zoom=1.5))
    assert x > 130 and y > 60
    assert abs((x - 100) / 30 - 1.5) < 0.1 and abs((y - 50) / 10 - 1.5) < 0.2


def test_zoom_out_moves_content_inward():
    x, y = centroid(warp(dot(130, 60), zoom=0.8))
    assert 100 < x < 130 and 50 < y < 60


def test_rotation_is_counter_clockwise_on_screen():
    image = dot(130, 50)  # right of centre
    rotated = warp(image, rotate=90)
    region = rotated[0, 0, 10:40, 85:115]  # above the centre
    assert region.sum() > 0.8 * image[0, 0].sum()


def test_translate_moves_by_pixels():
    x, y = centroid(warp(dot(100, 50), translate=(7, -4)))
    assert abs(x - 107) < 0.1 and abs(y - 46) < 0.1


def test_no_black_borders_when_zooming_out_or_rotating():
    bright = torch.full((1, 3, 90, 160), 0.8)
    bright[..., ::7, :] = 0.6  # some structure
    for kwargs in ({"zoom": 0.6}, {"rotate": 30}, {"zoom": 0.8, "rotate": -45, "translate": (20, 10)}):
        out = warp(bright, **kwargs)
        assert out.min() >= 0.55, kwargs


def test_identity_motion_returns_the_frame_untouched():
    image = torch.rand(1, 3, 40, 60)
    assert torch.equal(warp(image), image)


def test_center_is_the_pivot_of_zoom_and_rotation():
    pivot = (0.25, 0.3)  # (50, 30) in a 200x100 frame
    x, y = centroid(warp(dot(50, 30), zoom=1.5, center=pivot))
    assert abs(x - 50) < 0.3 and abs(y - 30) < 0.3  # the pivot stays put
    x, y = centroid(warp(dot(80, 40), zoom=1.5, center=pivot))
    assert abs((x - 50) / 30 - 1.5) < 0.1 and abs((y - 30) / 10 - 1.5) < 0.2  # the rest moves away from it
    x, y = centroid(warp(dot(70, 30), rotate=30, center=pivot))  # 20 px right of the pivot, turned 30 degrees
    assert abs(x - (50 + 20 * 0.866)) < 0.5 and abs(y - (30 - 20 * 0.5)) < 0.5  # about the pivot, not the centre


def test_center_is_keyframable_and_takes_expressions(make_scene):
    from pipeline.plan import make_plan

    scene = make_scene({"size": [96, 76], "frames": 20, "motion": {
        "zoom": 1.02, "center": {"0": [0.5, 0.5], "10": [0.2, 0.8]}},
        "segments": [{"frames": [0, 9], "layers": "edges"},
                     {"frames": [10, 19], "layers": "edges", "motion": {"center": ["0.5 + 0.1 * sin(t)", 0.5]}}]})
    plan = make_plan(scene)
    assert plan.frames[5].motion.center == (0.35, 0.65)
    assert plan.frames[10].motion.center == (0.5 + 0.1 * __import__("math").sin(10 / 30), 0.5)


def test_bicubic_resampling_stays_within_the_pixels_it_samples():
    """Bicubic overshoots at sharp edges; clamped to the range, the overshoot would be a crushed or
    blown pixel, and a zoom loop resamples every frame from the last. It stays bicubic: sharper
    than bilinear."""
    from pipeline.tools.quality import detail

    grid = torch.full((1, 3, 64, 96), 0.1)
    grid[..., ::4, :] = 0.9
    grid[..., :, ::5] = 0.9
    for zoom, rotate in ((1.02, 0.0), (1.0, 7.0), (0.97, 3.0)):
        warped = warp(grid, zoom, rotate, (0.3, 0.2))
        assert 0.1 - 1e-6 <= float(warped.min()) and float(warped.max()) <= 0.9 + 1e-6

    def crisp(resample):
        return detail((warp(grid, 1.02, resample=resample)[0].permute(1, 2, 0) * 255).byte().numpy())

    assert crisp("bicubic") > 1.2 * crisp("bilinear")


def test_a_zoom_loop_keeps_more_detail_with_the_default_resampling():
    """Each frame of a zoom is resampled from the last: over 20 frames bilinear resampling blurs the
    detail away; the default (bicubic) keeps several times as much."""
    from pipeline.image.blur import gaussian_blur
    from pipeline.tools.quality import detail

    torch.manual_seed(0)
    texture = ((gaussian_blur(torch.rand(1, 3, 96, 128), 1.0) - 0.5) * 5 + 0.5).clamp(0.0, 1.0)

    def kept(**resample):
        frame = texture
        for _ in range(20):
            frame = warp(frame, 1.03, 0.5, **resample)
        return detail((frame[0].permute(1, 2, 0) * 255).byte().numpy())

    assert kept() > 3 * kept(resample="bilinear")


def test_sharpening_adds_crispness_without_halos_or_clipping():
    """An unsharp mask steepens edges; its overshoot stays within each pixel's neighbours, so a
    frame sharpened again and again never gains black or white pixels, while a soft texture gains detail."""
    from pipeline.image.blur import gaussian_blur
    from pipeline.image.sharpen import unsharp_mask
    from pipeline.tools.quality import detail

    soft = torch.full((1, 3, 64, 96), 0.1)
    soft[..., 16:48, 24:72] = 0.9
    soft = warp(soft, 1.0, 0.0, (0.5, 0.5), resample="bilinear")
    sharpened = soft
    for _ in range(10):
        sharpened = unsharp_mask(sharpened, 1.0)
    assert 0.1 - 1e-6 <= float(sharpened.min()) and float(sharpened.max()) <= 0.9 + 1e-6

    def crisp(image):
        return detail((image[0].permute(1, 2, 0) * 255).byte().numpy())

    torch.manual_seed(0)
    texture = ((gaussian_blur(torch.rand(1, 3, 96, 128), 1.5) - 0.5) * 4 + 0.5).clamp(0.1, 0.9)
    assert crisp(unsharp_mask(texture, 0.5)) > 1.3 * crisp(texture)


@pytest.mark.slow
def test_a_bicubic_zoom_loop_holds_its_detail_and_sharpening_every_frame_builds_up():
    """Why sharpening is off by default: 40 frames resampled by bicubic zooming keep a texture's detail
    by themselves, while an unsharp mask on every frame (radius 1, amount 1) multiplies it."""
    from pipeline.image.blur import gaussian_blur
    from pipeline.image.sharpen import unsharp_mask
    from pipeline.tools.quality import detail
    from pipeline.scene.schema import SharpenConfig

    torch.manual_seed(0)
    texture = ((gaussian_blur(torch.rand(1, 3, 128, 160), 1.0) - 0.5) * 3 + 0.5).clamp(0.1, 0.9)

    def looped(amount):
        frame = texture
        for n in range(40):  # in and out: resampled every frame, never magnified
            frame = unsharp_mask(warp(frame, 1.015 if n % 2 else 1 / 1.015, 0.0), amount, 1.0)
        return detail((frame[0].permute(1, 2, 0) * 255).round().byte().numpy())

    start = detail((texture[0].permute(1, 2, 0) * 255).round().byte().numpy())
    default = SharpenConfig().amount.at(0)
    assert 0.5 * start < looped(default) < 1.5 * start
    assert looped(1.0) > 2 * looped(default)


def test_sharpening_steepens_lightness_not_colour():
    """Colour edges at constant lightness stay as soft as they were: video keeps colour at half
    resolution, and steepened colour edges come out of it as crushed or blown pixels."""
    from pipeline.image.blur import gaussian_blur
    from pipeline.image.sharpen import LUMA, unsharp_mask

    torch.manual_seed(0)
    mix = gaussian_blur(torch.rand(1, 1, 64, 96), 1.5)
    mix = (mix - mix.min()) / (mix.max() - mix.min())
    red, blue = torch.tensor([0.6, 0.3, 0.4]), torch.tensor([0.3, 0.4, 0.5])
    blue = blue * (torch.dot(red, torch.tensor(LUMA)) / torch.dot(blue, torch.tensor(LUMA)))  # same lightness
    colours = red.view(1, 3, 1, 1) * mix + blue.view(1, 3, 1, 1) * (1 - mix)
    assert torch.allclose(unsharp_mask(colours, 1.0), colours, atol=1e-6)
    grey = colours.mean(dim=1, keepdim=True).expand(1, 3, 64, 96) * (0.5 + mix)
    assert (unsharp_mask(grey, 1.0) - grey).abs().max() > 0.01
