"""The renderer's fast dream path agrees with the eager reference (on the CPU).

Dream trajectories are chaotic: a change in the last bit of one gradient
grows into a visibly different (but equally good) dream within a few steps.
So agreement is checked where it is meaningful: per gradient (cosine), and
by how far each path raises the objective.
"""

import importlib

import numpy as np
import pytest
import torch
from torch import nn

from pipeline.dream import core, engine as engine_module
from pipeline.tools.bench import cosine
from pipeline.dream.core import (
    FP32,
    Precision,
    Tile,
    ascent_step,
    bounded_step,
    dream,
    jitter_offsets,
    pixel_gradient,
    roll,
    roll_on_device,
    tile_grid,
)
from pipeline.output.encoder import VideoWriter
from pipeline.dream.engine import DreamEngine, resolve_precision
from pipeline.output.handoff import BackgroundWriter
from pipeline.image.pixels import cover_fit, to_tensor
from pipeline.models.network import DreamNet, fold_batch_norms
from pipeline.dream.objectives import layer_l2, weighted_sum
from pipeline.dream.settings import DreamSettings
from pipeline.models.zoo import ZOO
from tests.helpers import LOGO, ROOT

SETTINGS = DreamSettings(octaves=2, octave_scale=1.3, iterations=4, step=0.02, jitter=8, smooth=0.5)


def logo(width=160, height=96):
    return to_tensor(cover_fit(LOGO, width, height), "cpu")


def value(net, image, objective):
    with torch.no_grad():
        return float(objective(net(image, objective.layers)))


def whole(image):
    return tile_grid(*image.shape[2:], None)


def test_roll_by_a_tensor_on_the_host_or_the_device_is_torch_roll():
    image = torch.rand(1, 3, 7, 11)
    for dy, dx in [(0, 0), (3, -4), (-9, 13)]:
        expected = torch.roll(image, (dy, dx), (2, 3))
        assert torch.equal(roll(image, torch.tensor([dy, dx])), expected)
        assert torch.equal(roll_on_device(image, torch.tensor([dy, dx])), expected)


@pytest.mark.slow
def test_engine_in_reference_precision_is_the_eager_dream_exactly(inception):
    """Term weights live in a tensor (a crossfade reuses the captured graph), yet the result is identical."""
    image = logo()
    a, b = layer_l2("conv_4"), layer_l2("mixed_1")
    reference = dream(inception, image, weighted_sum([(a, 0.3), (b, 0.7)]), SETTINGS, torch.Generator().manual_seed(1))
    engine = DreamEngine(inception, "cpu", precision=FP32, fast_layers=False)
    ours = engine.dream(image, {a: 0.3, b: 0.7}, SETTINGS, torch.Generator().manual_seed(1))
    assert torch.equal(ours, reference)
    other = engine.dream(image, {a: 0.9, b: 0.1}, SETTINGS, torch.Generator().manual_seed(1))
    assert not torch.equal(other, reference)


@pytest.mark.slow
@pytest.mark.parametrize("precision, floor", [(Precision(torch.float32, True), 0.9999),
                                              (Precision(torch.bfloat16, True), 0.95)])
def test_fast_precisions_follow_the_fp32_gradient(inception, precision, floor):
    """On a textured image, as frames are once dreamed (flat areas make every gradient noisier)."""
    image = to_tensor(cover_fit(ROOT / "scenes" / "samples" / "cat.png", 256, 160), "cpu")
    objective = layer_l2("mixed_3")
    exact = pixel_gradient(inception, image, objective, whole(image))
    fast = DreamEngine(inception, "cpu", precision=precision)
    assert cosine(pixel_gradient(fast.net, image, objective, whole(image), precision), exact) > floor


def test_auto_precision_is_bf16_on_gpus_and_on_cpus_with_bf16_matrix_units(monkeypatch):
    for native in (False, True):
        monkeypatch.setattr(engine_module, "cpu_multiplies_bf16_natively", lambda: native)
        expected = torch.bfloat16 if native else torch.float32
        assert resolve_precision("auto", torch.device("cpu")) == Precision(expected, True)
        assert resolve_precision("auto", torch.device("cuda")) == Precision(torch.bfloat16, True)
        assert resolve_precision("fp32", torch.device("cpu")) == Precision(torch.float32, True)
        assert resolve_precision("bf16", torch.device("cpu")) == Precision(torch.bfloat16, True)


def test_cpu_bf16_detection_reads_the_cpu_and_survives_a_torch_without_the_query(monkeypatch):
    assert engine_module.cpu_multiplies_bf16_natively() is bool(torch.cpu._is_amx_tile_supported())
    monkeypatch.delattr(torch.cpu, "get_capabilities", raising=False)
    monkeypatch.delattr(torch.cpu, "_is_amx_tile_supported")
    assert engine_module.cpu_multiplies_bf16_natively() is False


@pytest.mark.slow
def test_a_cpu_dream_step_works_in_one_layout_and_hands_the_frame_back_in_the_callers(inception, monkeypatch):
    """A channels_last gradient meeting a channels-first frame makes the step's per-pixel work slow."""
    steps = []

    def recorded(image, delta):
        steps.append((image.stride(), delta.stride()))
        return bounded_step(image, delta)

    monkeypatch.setattr(core, "bounded_step", recorded)
    engine = DreamEngine(inception, "cpu", precision="fp32")
    objective = layer_l2("mixed_3")
    for layout in (torch.contiguous_format, torch.channels_last):  # as warped, as decoded
        image = logo().contiguous(memory_format=layout)
        assert engine.dream(image, {objective: 1.0}, SETTINGS, torch.Generator()).is_contiguous(memory_format=layout)
    assert steps and all(image == delta for image, delta in steps)


@pytest.mark.slow
def test_cpu_precisions_raise_the_objective_like_the_reference(inception):
    image = logo()
    objective = layer_l2("mixed_3")
    before = value(inception, image, objective)
    reference = value(inception, dream(inception, image, objective, SETTINGS, torch.Generator().manual_seed(2)),
                      objective)
    for precision in ("fp32", "bf16"):
        engine = DreamEngine(inception, "cpu", precision=precision)
        ours = engine.dream(image, {objective: 1.0}, SETTINGS, torch.Generator().manual_seed(2))
        gained = value(inception, ours, objective) - before
        assert gained == pytest.approx(reference - before, rel=0.25), precision


def test_tiles_cover_the_frame_once_and_respect_the_budget():
    for height, width, budget in [(1080, 1920, 500_000), (2160, 3840, 2_000_000), (4320, 7680, 4_000_000),
                                  (400, 300, 40_000)]:
        tiles = tile_grid(height, width, budget, 75)
        covered = np.zeros((height, width), dtype=np.int32)
        for tile in tiles:
            oy0, oy1, ox0, ox1 = tile.outer
            iy0, iy1, ix0, ix1 = tile.inner
            covered[iy0:iy1, ix0:ix1] += 1
            assert (oy1 - oy0) * (ox1 - ox0) <= budget
            assert min(oy1 - oy0, ox1 - ox0) >= 75
            assert oy0 % 32 == 0 and ox0 % 32 == 0  # windows on the network's stride grid
            assert oy0 <= iy0 and iy1 <= oy1 and ox0 <= ix0 and ix1 <= ox1
        assert (covered == 1).all()
    assert tile_grid(1080, 1920, None) == tile_grid(1080, 1920, 1920 * 1080)
    assert len(tile_grid(1080, 1920, None)) == 1
    with pytest.raises(ValueError, match="cannot be split"):
        tile_grid(1080, 1920, 1000, 75)


@pytest.mark.slow
def test_tiled_gradient_follows_the_whole_frame_gradient(inception):
    image = logo(640, 384)
    for layer, floor in [("conv_4", 0.999), ("mixed_3", 0.95)]:
        objective = layer_l2(layer)
        exact = pixel_gradient(inception, image, objective, whole(image))
        tiles = tile_grid(384, 640, 300 * 300, 75)
        assert len(tiles) > 1
        assert cosine(pixel_gradient(inception, image, objective, tiles), exact) > floor


def seam_contrast(image: torch.Tensor, column: int) -> float:
    """Mean jump across `column` relative to the median jump between neighbouring columns (1 = no seam)."""
    jumps = (image[0, :, :, 1:] - image[0, :, :, :-1]).abs().mean(dim=(0, 1))
    return float(jumps[column - 1] / jumps.median())


@pytest.mark.slow
def test_tiled_dream_leaves_no_seams(inception):
    """The renderer's tiles (margins, stride grid) with the jitter rolling the frame under them
    leave no mark at the tile border. Bare tiles without jitter do (so the check can fail)."""
    noise = torch.rand(1, 3, 192, 320, generator=torch.Generator().manual_seed(0))
    image = 0.5 + 0.05 * noise
    objective = layer_l2("mixed_3")
    tiles = tile_grid(192, 320, 192 * 192, 75)
    assert len(tiles) == 2 and tiles[0].inner[3] == 160
    bare = (Tile((0, 192, 0, 160), (0, 192, 0, 160)), Tile((0, 192, 160, 320), (0, 192, 160, 320)))

    def dreamed(tiles, jitter):
        x = image
        with torch.enable_grad():
            for shift in jitter_offsets(6, jitter, torch.Generator().manual_seed(0)):
                x = ascent_step(inception, x, objective, 0.02, shift, None, tiles)
        return x

    assert not 0.7 < seam_contrast(dreamed(bare, 0), 160) < 1.4
    assert 0.8 < seam_contrast(dreamed(tiles, 32), 160) < 1.25


@pytest.mark.slow
def test_random_weights_keep_activations_alive():
    """Random weights are for timing: their activations must be real numbers, not zeros or denormals."""
    from pipeline.models.network import load_model

    net = load_model("googlenet", weights="random")
    acts = net(torch.rand(1, 3, 224, 224), ["inception4c"])["inception4c"]
    assert 0.1 < float(acts.std()) < 100


@pytest.mark.slow
@pytest.mark.parametrize("name", list(ZOO))
def test_batch_norm_folding_is_exact(name):
    spec = ZOO[name]
    builder = importlib.import_module(spec.module)
    torch.manual_seed(0)
    model = builder.architecture(name)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):  # statistics unlike the identity of a fresh layer
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.2, 0.2)
    net = DreamNet(spec, builder.stages(model, name)).eval()
    layers = [layer.name for layer in spec.layers]
    image = torch.rand(1, 3, 128, 128)
    with torch.no_grad():
        before = net(image, layers)
        fold_batch_norms(net.stages)
        after = net(image, layers)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in net.modules())
    for layer in layers:
        assert torch.allclose(after[layer], before[layer], rtol=1e-4, atol=1e-4 * float(before[layer].abs().max()))


def test_background_writer_writes_every_frame_in_order(tmp_path):
    import imageio.v3 as iio

    path = tmp_path / "frames"  # a PNG folder: lossless, so every value can be checked
    writer = BackgroundWriter(VideoWriter(path, 32, 24, 10), depth=2)
    levels = [i * 20 / 255 for i in range(12)]  # exact pixel values 0, 20, 40, ...
    for level in levels:
        writer.write(torch.full((1, 3, 24, 32), level))
    assert writer.finish() == path
    files = sorted(path.glob("*.png"))
    assert [int(iio.imread(f)[0, 0, 0]) for f in files] == [i * 20 for i in range(12)]


def test_background_writer_hands_a_failure_back_to_the_loop(tmp_path):
    """An error on the writer thread is raised by the loop's next call, never lost."""
    writer = BackgroundWriter(VideoWriter(tmp_path / "out.mp4", 32, 24, 10))
    writer.write(torch.rand(1, 3, 20, 32))  # wrong size: the thread's write fails
    with pytest.raises(ValueError, match="expected a"):
        writer.finish()
    writer.discard()
    assert not list(tmp_path.iterdir())
