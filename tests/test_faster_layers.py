"""The engine's faster layers compute what the layers they stand in for compute.

The 2x2-block stem (stem.py) and the centred average pool (avg_pool.py) are
plain PyTorch. The fused max-pool kernels (pool_kernels.py) are Triton; on
the CPU they run under Triton's interpreter, which must be switched on
before Triton is first imported, hence a subprocess. (The interpreter
rounds float32 to bfloat16 by truncation where GPUs round to nearest, so
bf16 gradients are compared to within one bf16 step.)
"""

import copy
import functools
import importlib
import json
import os
import subprocess
import sys

import pytest
import torch
from torch import nn

from pipeline.models.fast.avg_pool import CentredAvgPool, is_centred_avg_pool
from pipeline.dream.core import pixel_gradient, tile_grid
from pipeline.dream.engine import DreamEngine
from pipeline.models.network import load_model
from pipeline.dream.objectives import layer_l2
from pipeline.models.fast.racing import Raced, faster_layers
from pipeline.models.fast.sibling_convs import merge_sibling_convs
from pipeline.models.fast.stem import SpaceToDepthConv, is_stem
from pipeline.models.zoo import ZOO
from tests.helpers import ROOT


def gradient_cosine(net, other, objective, image) -> float:
    """How closely two networks' pixel gradients of `objective` agree on `image` (1: same direction)."""
    whole = tile_grid(*image.shape[2:], None)
    a, b = (pixel_gradient(model, image, objective, whole).flatten() for model in (net, other))
    return float(torch.nn.functional.cosine_similarity(a, b, dim=0))


@functools.cache
def _zoo_layers_looked_at() -> tuple[tuple[str, nn.Module], ...]:
    """(model name, layer) for the layers these tests look at (stem convolutions, average and max
    pools) in every zoo architecture; each architecture is built once and not kept."""
    found = []
    for name, spec in ZOO.items():
        model = importlib.import_module(spec.module).architecture(name)
        found += [(name, module) for module in model.modules()
                  if isinstance(module, (nn.AvgPool2d, nn.MaxPool2d)) or is_stem(module)]
    return tuple(found)


def zoo_layers(kind) -> list[tuple[str, nn.Module]]:
    """(model name, layer) for every layer of type `kind` in the zoo's architectures (of convolutions,
    the stems)."""
    return [(name, module) for name, module in _zoo_layers_looked_at() if isinstance(module, kind)]


@pytest.mark.slow
def test_the_block_stem_equals_every_zoo_stem_convolution():
    stems = [(name, conv) for name, conv in zoo_layers(nn.Conv2d) if is_stem(conv)]
    assert {name for name, _ in stems} >= {"googlenet", "resnet50", "inception_v3", "inception_v3_tv"}
    for name, conv in stems:
        conv = conv.eval()
        blocks = SpaceToDepthConv(conv)
        for layout in (torch.contiguous_format, torch.channels_last):
            for height, width in ((64, 96), (75, 101), (33, 34)):
                x = torch.rand(2, conv.in_channels, height, width).contiguous(memory_format=layout)
                ours_in, theirs_in = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
                ours, theirs = blocks(ours_in), conv(theirs_in)
                assert ours.shape == theirs.shape, (name, height, width)
                torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5)
                grad = torch.randn_like(theirs)
                ours.backward(grad)
                theirs.backward(grad)
                torch.testing.assert_close(ours_in.grad, theirs_in.grad, rtol=1e-5, atol=1e-5)


def test_the_centred_avg_pool_equals_every_stride_1_avg_pool_it_covers():
    zoo_pools = [pool for _, pool in zoo_layers(nn.AvgPool2d) if is_centred_avg_pool(pool)]
    assert len(zoo_pools) == 8  # in inception_v3: mixed_0-2, mixed_4-7 and mixed_9
    others = [nn.AvgPool2d(3, 1, 1), nn.AvgPool2d(5, 1, 2, count_include_pad=False), nn.AvgPool2d((7, 7), 1, 3)]
    assert all(is_centred_avg_pool(pool) for pool in others)
    uncovered = [nn.AvgPool2d(3, 2, 1), nn.AvgPool2d(3, 1, 0), nn.AvgPool2d(2, 1, 1), nn.AvgPool2d((3, 5), 1, (1, 2)),
                 nn.AvgPool2d(3, 1, 1, ceil_mode=True), nn.AvgPool2d(3, 1, 1, divisor_override=4), nn.MaxPool2d(3, 1, 1)]
    assert not any(is_centred_avg_pool(pool) for pool in uncovered)
    generator = torch.Generator().manual_seed(0)  # the same numbers every run
    for pool in zoo_pools[:1] + others:
        ours_pool = CentredAvgPool(pool)
        for dtype, tolerance in ((torch.float32, 1e-6), (torch.bfloat16, 2 ** -7)):
            for layout in (torch.contiguous_format, torch.channels_last):
                for height, width in ((1, 1), (2, 5), (17, 30)):
                    x = torch.randn(2, 8, height, width, generator=generator).to(dtype)
                    x = x.contiguous(memory_format=layout)
                    ours_in, theirs_in = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
                    ours, theirs = ours_pool(ours_in), pool(theirs_in)
                    assert torch.equal(ours, theirs)
                    grad = torch.randn(theirs.shape, generator=generator).to(dtype).contiguous(memory_format=layout)
                    ours.backward(grad)
                    theirs.backward(grad)
                    torch.testing.assert_close(ours_in.grad, theirs_in.grad, rtol=tolerance, atol=tolerance)


@pytest.mark.slow
def test_on_the_cpu_the_engine_runs_the_block_stem_and_avg_pools_and_the_gradient_is_the_networks():
    net = load_model("googlenet", weights="random")
    fast = faster_layers(copy.deepcopy(net), torch.device("cpu"))
    def stem(network):
        return next(m for m in network.stages["conv1"].modules() if isinstance(m, (nn.Conv2d, SpaceToDepthConv)))

    assert isinstance(stem(fast), SpaceToDepthConv)
    assert not any(isinstance(m, Raced) for m in fast.modules())  # races are for CUDA
    assert isinstance(stem(DreamEngine(net, "cpu").net), SpaceToDepthConv)
    assert type(stem(DreamEngine(net, "cpu", fast_layers=False).net)) is nn.Conv2d
    objective = layer_l2("inception4c")
    image = torch.rand(1, 3, 96, 128)
    assert gradient_cosine(net, fast, objective, image) > 0.9999
    inception = load_model("inception_v3", weights="random")
    fast = DreamEngine(inception, "cpu", precision="fp32").net
    assert sum(isinstance(m, CentredAvgPool) for m in fast.modules()) == 8
    assert not any(is_centred_avg_pool(m) for m in fast.modules())
    assert gradient_cosine(inception, fast, layer_l2("mixed_5"), image) > 0.9999


@pytest.mark.slow
def test_merged_branch_convolutions_equal_every_zoo_inception_block():
    merged_blocks = {}
    for name in ("googlenet", "inception_v3", "inception_v3_tv", "resnet50"):
        net = load_model(name, weights="random")
        x = (torch.rand(1, 3, 96, 128) - net.mean) * net.factor
        for stage_name, stage in net.stages.items():
            if stage_name == "logits":
                break
            merged = merge_sibling_convs(stage)
            if merged is not None:
                merged_blocks[name] = merged_blocks.get(name, 0) + 1
                convs = [sum(isinstance(m, nn.Conv2d) for m in block.modules()) for block in (stage, merged)]
                assert convs[1] < convs[0], stage_name
                ours_in, theirs_in = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
                ours, theirs = merged(ours_in), stage(theirs_in)
                torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5)
                grad = torch.randn_like(theirs)
                ours.backward(grad)
                theirs.backward(grad)
                torch.testing.assert_close(ours_in.grad, theirs_in.grad, rtol=1e-5, atol=1e-5)
            with torch.no_grad():
                x = stage(x)
    # every inception block; ResNet's blocks have no sibling convolutions followed by ReLUs
    assert merged_blocks == {"googlenet": 9, "inception_v3": 10, "inception_v3_tv": 10}


def settle(net: nn.Module, use_candidate) -> nn.Module:
    """Replace every Raced layer by its candidate where use_candidate(raced), else its original."""
    for parent in list(net.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, Raced):
                setattr(parent, name, child.candidate if use_candidate(child) else child.original)
    return net


@pytest.mark.slow
def test_the_networks_cuda_gets_compute_what_the_model_computes():
    """The rewrites of faster_layers for CUDA, built and run on the CPU (all but the Triton pools)."""
    for name, layer in (("googlenet", "inception4c"), ("inception_v3", "mixed_5")):
        net = load_model(name, weights="random")
        raced = faster_layers(copy.deepcopy(net), torch.device("cuda"))
        kinds = {m.label for m in raced.modules() if isinstance(m, Raced)}
        assert {"merged branch convolutions", "stem over 2x2 blocks"} <= kinds
        assert ("avg pool, pooled backward" in kinds) == (name == "inception_v3")
        image = torch.rand(1, 3, 80, 112)
        objective = layer_l2(layer)
        with torch.no_grad():  # off CUDA a raced layer is its original
            assert torch.equal(objective(raced(image, objective.layers)), objective(net(image, objective.layers)))
        fast = settle(raced, lambda r: r.label != "fused max pool")
        assert not any(isinstance(m, Raced) for m in fast.modules())
        assert gradient_cosine(net, fast, objective, image) > 0.9999, name


def test_a_raced_layer_off_cuda_is_the_original():
    conv = nn.Conv2d(3, 8, 7, stride=2, padding=3)
    raced = Raced(conv, SpaceToDepthConv(conv), "stem")
    x = torch.rand(1, 3, 40, 50)
    assert torch.equal(raced(x), conv(x)) and not raced.wins


def zoo_windows() -> set:
    """Every distinct max-pool window in the zoo's networks (all must be covered by the kernels)."""
    from pipeline.models.fast.pool_kernels import window_of

    windows = set()
    for name, pool in zoo_layers(nn.MaxPool2d):
        window = window_of(pool)
        assert window is not None, f"{name} has a max pool the fused kernels don't cover: {pool}"
        windows.add(window)
    return windows


def compare_with_torch(windows: list) -> None:
    """Run in a subprocess with TRITON_INTERPRET=1: assert fused == F.max_pool2d, forward and backward."""
    import torch.nn.functional as F

    from pipeline.models.fast.pool_kernels import Window, fused_max_pool

    generator = torch.Generator().manual_seed(0)
    # Each size meets each dtype and each layout: (13, 17) has odd sides and takes two programs per launch
    # (the backward's at least), (8, 9) an even side and an odd one (whether a ceil-mode window hangs over).
    cases = [(torch.float32, torch.contiguous_format, (13, 17)), (torch.float32, torch.channels_last, (8, 9)),
             (torch.bfloat16, torch.contiguous_format, (8, 9)), (torch.bfloat16, torch.channels_last, (13, 17))]
    for kernel, stride, padding, ceil_mode in windows:
        window = Window(tuple(kernel), tuple(stride), tuple(padding), ceil_mode)
        for dtype, layout, (height, width) in cases:
            data = torch.randn(2, 5, height, width, generator=generator)
            data[:, 2:] = data[:, 2:].clamp(min=0)  # channels 2-4 clamped: ties, as after a ReLU
            x = data.to(dtype).contiguous(memory_format=layout).requires_grad_(True)
            exact = x.detach().float().requires_grad_(True)
            ours = fused_max_pool(x, window)
            theirs = F.max_pool2d(exact, kernel, stride, padding, ceil_mode=ceil_mode)
            grad = torch.randn(theirs.shape, generator=generator).to(dtype)
            ours.backward(grad)
            theirs.backward(grad.float())
            case = f"{window} {dtype} {layout} {height}x{width}"
            assert ours.shape == theirs.shape, case
            assert torch.equal(ours, theirs.to(dtype)), case
            assert ours.is_contiguous(memory_format=layout), case
            assert x.grad.is_contiguous(memory_format=layout), case
            step = 1e-6 if dtype == torch.float32 else 2**-7  # one bf16 step, relative
            torch.testing.assert_close(x.grad.float(), exact.grad, rtol=step, atol=1e-6, msg=case)


def check_race() -> None:
    """Run in the same subprocess: a race keeps the original unless the candidate is equal and faster."""
    import dataclasses
    import warnings

    from pipeline.models.fast import racing
    from pipeline.models.fast.pool_kernels import FusedMaxPool, window_of

    pool = nn.MaxPool2d(3, stride=2, ceil_mode=True)
    raced = Raced(pool, FusedMaxPool(window_of(pool)), "fused max pool")
    x = torch.randn(1, 8, 21, 30).contiguous(memory_format=torch.channels_last)
    for candidate_seconds, expected in ((1.0, True), (3.0, False)):
        racing._gpu_seconds = lambda run, layer: 2.0 if layer is pool else candidate_seconds
        assert raced._race(x) is expected
    raced.candidate.window = dataclasses.replace(raced.candidate.window, stride=(1, 1))  # computes something else
    racing._gpu_seconds = lambda run, layer: 2.0 if layer is pool else 1.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert raced._race(x) is False
    assert "differs" in str(caught[0].message)
    assert callable(torch.cuda._sleep)  # what the GPU timing uses to queue its runs


def check_network() -> None:
    """Run in the same subprocess: GoogLeNet with every CUDA rewrite in use (fused pools included)
    gives the network's gradient."""
    net = load_model("googlenet", weights="random")
    fast = settle(faster_layers(copy.deepcopy(net), torch.device("cuda")), lambda raced: True)
    assert not any(isinstance(m, (nn.MaxPool2d, Raced)) for m in fast.modules())
    objective = layer_l2("inception4c")
    image = torch.rand(1, 3, 33, 47)  # odd sides: ceil-mode windows hang over the edges
    assert gradient_cosine(net, fast, objective, image) > 0.9999


@pytest.mark.slow
def test_fused_max_pool_under_the_triton_interpreter():
    """Equal to PyTorch's for every pool window in the zoo; raced fairly; right inside a whole network."""
    pytest.importorskip("triton")
    windows = sorted(zoo_windows(), key=repr)
    assert len(windows) >= 5  # googlenet's three, resnet's padded one, vgg's 2x2, inception's stride 1
    listed = json.dumps([[w.kernel, w.stride, w.padding, w.ceil_mode] for w in windows])
    script = ("from tests.test_faster_layers import check_network, check_race, compare_with_torch\n"
              f"compare_with_torch({listed})\ncheck_race()\ncheck_network()")
    script = script.replace("true", "True").replace("false", "False")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "TRITON_INTERPRET": "1"}, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.slow
def test_relus_behind_strided_max_pools_compute_the_same_layers_and_gradients_exactly():
    """max_pool(relu(x)) as relu(max_pool(x)): every layer and the pixel gradient are bitwise the
    plain network's, on flat pictures too (ties at zero and at positive values in every window)."""
    from pipeline.models.fast.relu_pool import PoolThenReLU, WithoutFinalReLU, relu_after_pools

    generator = torch.Generator().manual_seed(0)
    flat = torch.rand(1, 3, 6, 8, generator=generator).repeat_interleave(8, 2).repeat_interleave(8, 3)
    for name, layer, pairs in (("googlenet", "inception3a", 2), ("inception_v3", "mixed_0", 2),
                               ("vgg19", "conv3_1", 5)):
        net = load_model(name, weights="random")
        fast = copy.deepcopy(net)
        assert relu_after_pools(fast.stages) == pairs, name
        names = list(fast.stages)
        rewritten = [n for n in names if isinstance(fast.stages[n], WithoutFinalReLU)]
        wanted = rewritten[:1] + [layer]  # a layer whose ReLU moved, and one past the pools
        assert all(isinstance(fast.stages[names[names.index(n) + 1]], PoolThenReLU) for n in rewritten)
        for image, layout in ((torch.rand(1, 3, 48, 64, generator=generator), torch.contiguous_format),
                              (flat, torch.channels_last)):
            x = image.contiguous(memory_format=layout)
            theirs, ours = net(x, wanted), fast(x, wanted)
            assert all(torch.equal(ours[k], theirs[k]) for k in wanted), name
            objective = layer_l2(layer)
            whole = tile_grid(*x.shape[2:], None)
            assert torch.equal(pixel_gradient(fast, x, objective, whole), pixel_gradient(net, x, objective, whole))
        if name == "googlenet":
            assert isinstance(DreamEngine(net, "cpu").net.stages["maxpool1"], PoolThenReLU)
