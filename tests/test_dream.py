"""The dream core: the objective rises, values stay in range, octaves respect the model."""

import pytest
import torch

from pipeline.dream.core import ascent_step, dream, jitter_offsets, octave_sizes, resize
from pipeline.image.blur import gaussian_blur, gaussian_kernel
from pipeline.image.pixels import cover_fit, to_tensor
from pipeline.dream.objectives import layer_l2, weighted_sum
from pipeline.dream.settings import DreamSettings
from tests.helpers import LOGO


def logo(width=160, height=96):
    return to_tensor(cover_fit(LOGO, width, height), "cpu")


def value(net, image, objective):
    with torch.no_grad():
        return float(objective(net(image, objective.layers)))


@pytest.mark.slow
def test_pretrained_inception_matches_the_published_network(inception):
    """A few stable facts of Google's weights: activations are sparse and non-negative."""
    acts = inception(logo(299, 299), ["mixed_10"])["mixed_10"]
    assert acts.shape == (1, 2048, 8, 8)
    assert acts.min() >= 0 and 0.05 < (acts > 0).float().mean() < 0.95


@pytest.mark.slow
def test_one_step_raises_the_objective(inception):
    image = logo()
    objective = layer_l2("mixed_3")
    before = value(inception, image, objective)
    with torch.enable_grad():
        after_image = ascent_step(inception, image, objective, 0.02, torch.zeros(2, dtype=torch.long), None)
    assert value(inception, after_image, objective) > before * 1.02


@pytest.mark.slow
def test_dream_raises_a_weighted_objective_and_stays_in_range(inception):
    image = logo()
    objective = weighted_sum([(layer_l2("conv_4"), 0.5), (layer_l2("mixed_1"), 1.0)])
    settings = DreamSettings(octaves=2, octave_scale=1.3, iterations=4, step=0.02, jitter=8, smooth=0.5)
    dreamed = dream(inception, image, objective, settings, torch.Generator().manual_seed(0))
    assert dreamed.shape == image.shape
    assert 0.0 <= dreamed.min() and dreamed.max() <= 1.0
    assert value(inception, dreamed, objective) > 1.2 * value(inception, image, objective)


@pytest.mark.slow
def test_dream_is_deterministic_for_a_seed(inception):
    settings = DreamSettings(octaves=2, octave_scale=1.4, iterations=2, step=0.02, jitter=8, smooth=0.5)
    runs = [
        dream(inception, logo(), layer_l2("mixed_0"), settings, torch.Generator().manual_seed(seed))
        for seed in (3, 3, 4)
    ]
    assert torch.equal(runs[0], runs[1])
    assert not torch.equal(runs[0], runs[2])


def test_zero_iterations_leave_the_image_alone(inception):
    settings = DreamSettings(octaves=3, octave_scale=1.4, iterations=0, step=0.02, jitter=8, smooth=0.5)
    image = logo()
    assert torch.equal(dream(inception, image, layer_l2("mixed_0"), settings, torch.Generator()), image)


def test_octaves_never_go_below_the_model_minimum():
    sizes = octave_sizes(120, 200, octaves=5, scale=1.5, min_size=75)
    assert sizes[-1] == (120, 200)
    assert all(min(s) >= 75 for s in sizes)
    assert sizes == sorted(sizes)
    assert octave_sizes(720, 1280, 3, 1.4, 75) == [(367, 653), (514, 914), (720, 1280)]


def test_a_smaller_top_octave_stays_inside_the_frame_and_the_model():
    assert octave_sizes(720, 1280, 3, 1.4, 75, top=0.5) == [(184, 327), (257, 457), (360, 640)]
    assert octave_sizes(120, 200, 2, 1.4, 75, top=0.25)[-1] == (75, 125)  # the model's minimum
    assert octave_sizes(120, 200, 2, 1.4, 75, top=1.0)[-1] == (120, 200)


def fine_share(detail: torch.Tensor) -> float:
    """How much of an image's change is finer than about two pixels."""
    return float((detail - gaussian_blur(detail, 2.0)).pow(2).mean() / detail.pow(2).mean())


@pytest.mark.slow
def test_feature_scale_dreams_larger_features_on_the_whole_frame(inception):
    """A top octave at half the frame: the frame keeps its size and every pixel is dreamt, the objective
    rises at the size it was dreamt at, and what the dream adds is coarser than at full size."""
    image = logo(240, 160)
    objective = layer_l2("mixed_3")
    results = {}
    for top in (1.0, 0.5):
        settings = DreamSettings(octaves=2, octave_scale=1.4, iterations=4, step=0.02, jitter=4, smooth=0.5,
                                 top=top)
        results[top] = dream(inception, image, objective, settings, torch.Generator().manual_seed(0))
    larger = results[0.5]
    assert larger.shape == image.shape and 0.0 <= larger.min() and larger.max() <= 1.0
    seen = (80, 120)  # the objective rises where it was dreamt: at the top octave's size
    assert value(inception, resize(larger, seen), objective) > 1.1 * value(inception, resize(image, seen), objective)
    assert fine_share(larger - image) < 0.7 * fine_share(results[1.0] - image)
    changed = (larger - image).abs().amax(1)
    assert (changed[0, :, :120] > 0.01).float().mean() > 0.5 and (changed[0, :, 120:] > 0.01).float().mean() > 0.5


def test_gradient_smoothing_blurs_but_keeps_the_mean():
    noise = torch.rand(1, 3, 50, 60)
    blurred = gaussian_blur(noise, 1.5)
    assert blurred.shape == noise.shape
    assert blurred.std() < 0.6 * noise.std()
    assert abs(float(blurred.mean() - noise.mean())) < 0.01


def raised(net, image, objective, steps=3):
    offsets = jitter_offsets(steps, 4, torch.Generator().manual_seed(0))
    before = value(net, image, objective)
    with torch.enable_grad():
        for shift in offsets:
            image = ascent_step(net, image, objective, 0.02, shift, gaussian_kernel(0.5))
    return before, value(net, image, objective)


@pytest.mark.slow
def test_channel_objective_raises_its_channel(inception):
    from pipeline.dream.objectives import channel_l2

    before, after = raised(inception, logo(), channel_l2("mixed_3", 17))
    assert after > 1.5 * before


@pytest.mark.slow
def test_class_objective_raises_the_class_score():
    from pipeline.models.imagenet import class_index
    from pipeline.models.network import load_model
    from pipeline.dream.objectives import class_logit

    net = load_model("efficientnet_lite0")
    objective = class_logit(class_index("goldfish"))
    before, after = raised(net, logo(128, 128), objective, steps=5)
    assert after > before + 1.0


@pytest.mark.slow
def test_guide_objective_moves_features_toward_the_guide(inception):
    from pipeline.dream.objectives import guide
    from tests.helpers import ROOT

    cat = to_tensor(cover_fit(ROOT / "scenes" / "samples" / "cat.png", 160, 96), "cpu")
    with torch.no_grad():
        target = inception(cat, ["mixed_4"])["mixed_4"].mean(dim=(0, 2, 3))
    before, after = raised(inception, logo(), guide("mixed_4", target))
    assert after > before * 1.2


@pytest.mark.slow
def test_a_zoom_loop_keeps_its_pixels_off_black_and_white(inception):
    """Dreamed frame after frame, the gradient asks for ever more contrast and saturation. From a flat
    grey and from colours all on the edge of the range, a zoom loop settles with hardly a pixel
    crushed (a channel at 3 or less) or blown (252 or more), as `check` counts them."""
    from pipeline.image.motion import warp
    from pipeline.tools.quality import clipped

    y, x = torch.meshgrid(torch.linspace(0, 6.3, 96), torch.linspace(0, 6.3, 128), indexing="ij")
    waves = torch.stack([torch.sin(3 * x), torch.sin(2 * y + 1), torch.cos(2 * x + 3 * y)])[None]
    vivid = (waves * 1.5 + 0.5).clamp(0.0, 1.0)
    settings = DreamSettings(octaves=1, octave_scale=1.4, iterations=4, step=0.02, jitter=4, smooth=0.2)
    for frame in (torch.full((1, 3, 96, 128), 0.5), vivid):
        generator, shares = torch.Generator().manual_seed(0), []
        for _ in range(12):
            frame = dream(inception, warp(frame, 1.05), layer_l2("conv_4"), settings, generator)
            shares.append(clipped((frame[0].permute(1, 2, 0) * 255 + 0.5).byte().numpy()))
        assert max(shares[-4:]) < 0.01, shares
