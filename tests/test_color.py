"""Colour stability: LAB conversion is exact, matching pulls statistics, renders stop drifting."""

import itertools
import math

import imageio.v3 as iio
import numpy as np
import pytest
import torch

from pipeline.image import pixels
from pipeline.image.color import POST_KNEE, lab_stats, lab_to_rgb, match_colors, rgb_to_lab
from pipeline.session.session import render
from pipeline.plan import make_plan
from pipeline.scene import load_scene
from tests.helpers import LOGO


def test_lab_round_trip_and_known_values():
    image = torch.rand(1, 3, 16, 24)
    assert torch.allclose(lab_to_rgb(rgb_to_lab(image)), image, atol=1e-4)
    white = rgb_to_lab(torch.ones(1, 3, 1, 1)).flatten()
    red = rgb_to_lab(torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1)).flatten()
    assert torch.allclose(white, torch.tensor([100.0, 0.0, 0.0]), atol=1e-2)
    assert torch.allclose(red, torch.tensor([53.24, 80.09, 67.20]), atol=0.05)


def test_matching_moves_statistics_by_the_strength():
    """The mean moves further the stronger the pull (lightness twice, colour three times as far as
    the spread, so from a third on it is asked to go all the way)."""
    torch.manual_seed(0)
    image = torch.rand(1, 3, 32, 32) * 0.5 + 0.25
    reference = lab_stats(torch.rand(1, 3, 32, 32) * 0.3 + torch.tensor([0.35, 0.15, 0.45]).view(1, 3, 1, 1))
    distance = lambda x: float((lab_stats(x)[0] - reference[0]).abs().sum())  # noqa: E731
    distances = [distance(match_colors(image, reference, s)) for s in (0.0, 0.05, 0.1, 0.2)]
    assert distances == sorted(distances, reverse=True) and distances[-1] < 0.5 * distances[0], distances
    assert distance(match_colors(image, reference, 0.5)) < 0.4 * distances[0]
    assert torch.equal(match_colors(image, reference, 0.0), image)


def shifted_colors(image, reference, strength):
    """Colour matching as it was: every pixel's LAB moved alike toward the reference's mean and spread."""
    lab = rgb_to_lab(image)
    mean, std = lab.mean(dim=(2, 3), keepdim=True), lab.std(dim=(2, 3), keepdim=True)
    matched = (lab - mean) / (std + 1e-5) * reference[1] + reference[0]
    return lab_to_rgb(lab + strength * (matched - lab), POST_KNEE)


@pytest.mark.slow
def test_a_greying_loop_keeps_the_start_colour_without_crushing_pixels():
    """Each step greys and lightens the frame a little and adds texture of every hue, as a dream does
    to the vivid logo. Shifting every pixel alike at 0.1 lets the mean colour wander past check's bound
    (25 LAB); at 0.3 it holds it but crushes saturated pixels. Matching holds it at 0.1 and crushes
    next to none."""
    from pipeline.tools.quality import MAX_DRIFT, clipped

    logo = pixels.to_tensor(pixels.cover_fit(LOGO, 96, 54), "cpu")
    reference = lab_stats(logo)

    def loop(pull, strength):
        generator, frame = torch.Generator().manual_seed(0), logo
        for _ in range(40):
            grey = (frame * torch.tensor([0.2126, 0.7152, 0.0722]).view(1, 3, 1, 1)).sum(1, keepdim=True)
            texture = 0.12 * (torch.rand(1, 3, 54, 96, generator=generator) - 0.5)
            frame = pull((torch.lerp(frame, grey, 0.15) + 0.02 + texture).clamp(0, 1), reference, strength)
        drift = float((rgb_to_lab(frame) - rgb_to_lab(logo)).mean(dim=(2, 3)).norm())
        return drift, clipped(pixels.to_pixels(frame))

    shifted, stronger, matched = loop(shifted_colors, 0.1), loop(shifted_colors, 0.3), loop(match_colors, 0.1)
    assert shifted[0] > MAX_DRIFT > 20 > matched[0], (shifted, matched)
    assert stronger[0] < 20 and stronger[1] > 0.005 and matched[1] < 0.3 * stronger[1], (stronger, matched)


def test_matching_eases_colours_in_short_of_the_edge_of_the_range():
    """Pulled toward a vivid reference frame after frame, colours would be pushed past the edge of the
    range and land on it, a channel crushed to 0 or blown to 255; they settle short of it. The
    spread of lightness still moves toward the reference's, as far as the colours have room."""
    from pipeline.tools.quality import clipped

    torch.manual_seed(0)
    corners = (torch.rand(1, 3, 48, 64) > 0.5).float()
    image = (corners * 0.8 + 0.1 + 0.05 * torch.randn(1, 3, 48, 64)).clamp(0.05, 0.95)
    reference = lab_stats((torch.rand(1, 3, 48, 64) > 0.5).float() * 0.9 + 0.05)
    matched = image
    for _ in range(10):
        matched = match_colors(matched, reference, 0.15)
    assert clipped((matched[0].permute(1, 2, 0) * 255 + 0.5).byte().numpy()) < 0.1
    distance = lambda x: float((lab_stats(x)[1] - reference[1])[0, 0].abs())  # noqa: E731
    assert distance(matched) < 0.75 * distance(image)

SCENE = """
size: [100, 76]
frames: FRAMES
start: logo.png
dream: {octaves: 1, iterations: 1, step: 0.09, jitter: 4}
motion: {zoom: 1.03}
color: {strength: STRENGTH}
segments:
  - frames: [0, LAST]
    layers: edges
"""


def scene_text(frames: int) -> str:
    return SCENE.replace("FRAMES", str(frames)).replace("LAST", str(frames - 1))


def rendered_frames(scene_file, out, inception) -> np.ndarray:
    """Render to `out`, a folder of PNG frames (lossless: the colours as rendered), and read them back."""
    scene = load_scene(scene_file)
    render(scene, make_plan(scene, output=out), out, "cpu", progress=False, net=inception)
    return np.stack([iio.imread(frame) for frame in sorted(out.glob("*.png"))])


@pytest.mark.slow
def test_color_matching_stops_the_drift_of_a_long_loop(write_scene, inception, tmp_path):
    """Frame 39 against frame 0: mean and spread of each channel. (By then the unmatched loop has drifted
    nearly as far as it ever does: about 300 here, 330 at frame 299; matched, about 60 at either.)"""
    drift = {}
    for strength in (0.0, 0.5):
        scene_file = write_scene(scene_text(40).replace("STRENGTH", str(strength)), f"s{strength}.yaml")
        frames = rendered_frames(scene_file, tmp_path / f"s{strength}".replace(".", "_"), inception)
        assert len(frames) == 40
        frames = frames.astype(np.float32)
        first, last = frames[0].reshape(-1, 3), frames[-1].reshape(-1, 3)
        drift[strength] = float(
            np.abs(first.mean(0) - last.mean(0)).sum() + np.abs(first.std(0) - last.std(0)).sum()
        )
    assert drift[0.0] > 40, drift
    assert drift[0.5] < 0.4 * drift[0.0], drift


@pytest.mark.slow
def test_a_dreamed_loop_keeps_its_colour_within_checks_bound(write_scene, inception, tmp_path, monkeypatch):
    """A small, strongly dreamed render of the logo: with every pixel shifted alike the mean colour
    wanders past check's bound within a few seconds; matched, it stays well within, from frame 10
    on, without more clipped pixels."""
    from pipeline.session import recipe
    from pipeline.tools.quality import MAX_DRIFT, per_frame

    text = scene_text(30).replace("STRENGTH", "0.1")
    figures = {}
    for name, pull in (("shifted", shifted_colors), ("matched", match_colors)):
        monkeypatch.setattr(recipe, "match_colors", pull)
        frames = rendered_frames(write_scene(text, f"{name}.yaml"), tmp_path / f"{name}_frames", inception)
        rows = list(per_frame(frames))[10:]
        figures[name] = max(r.drift for r in rows), max(r.clipped for r in rows)
    (shifted_drift, shifted_clipped), (matched_drift, matched_clipped) = figures["shifted"], figures["matched"]
    assert shifted_drift > MAX_DRIFT > 0.7 * MAX_DRIFT > matched_drift, figures
    assert matched_clipped <= shifted_clipped + 0.002, figures


def test_luma_mode_keeps_the_colours_from_before_the_dream():
    from pipeline.image.color import keep_chroma

    before = torch.rand(1, 3, 16, 16)
    dreamed = torch.rand(1, 3, 16, 16)
    kept = keep_chroma(dreamed, before, 1.0)
    # lightness from the dream (a few out-of-gamut pixels get clipped)
    assert (rgb_to_lab(kept)[:, 0] - rgb_to_lab(dreamed)[:, 0]).abs().mean() < 2.0
    chroma_error = (rgb_to_lab(kept)[:, 1:] - rgb_to_lab(before)[:, 1:]).abs().mean()
    assert chroma_error < 0.25 * (rgb_to_lab(dreamed)[:, 1:] - rgb_to_lab(before)[:, 1:]).abs().mean()


@pytest.mark.slow
def test_luma_mode_keeps_the_hues_the_start_image_brings(write_scene, inception, tmp_path):
    """Compared with the same zoom without any dream, the mean hue stays put in luma mode."""

    renders = itertools.count()  # each render its own folder

    def mean_hue(color, iterations=1):
        text = scene_text(40).replace("color: {strength: STRENGTH}", color)
        text = text.replace("iterations: 1", f"iterations: {iterations}")
        frames = rendered_frames(write_scene(text, "luma.yaml"), tmp_path / f"luma{next(renders)}", inception)
        last = torch.from_numpy(frames[-1].astype(np.float32) / 255).permute(2, 0, 1)[None]
        a, b = rgb_to_lab(last)[0, 1:].mean(dim=(1, 2)).tolist()
        return math.degrees(math.atan2(b, a))

    zoom_only = mean_hue("color: {strength: 0}", iterations=0)
    assert abs(mean_hue("color: {strength: 0}") - zoom_only) > 30  # the dream alone turns the hue
    assert abs(mean_hue("color: {strength: 1.0, mode: luma}") - zoom_only) < 10
