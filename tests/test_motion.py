"""Motion: zoom, rotation and panning move content the documented way, with no black borders."""

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
