"""The fused max-pool kernels equal PyTorch's max pool, for every pool the zoo's networks use.

The kernels are Triton; on the CPU they run under Triton's interpreter, which
must be switched on before Triton is first imported, hence the subprocess.
(The interpreter rounds float32 to bfloat16 by truncation where GPUs round to
nearest, so bf16 gradients are compared to within one bf16 step.)
"""

import copy
import importlib
import json
import os
import subprocess
import sys

import pytest
import torch
from torch import nn

from pipeline.models import load_model
from pipeline.objectives import layer_l2
from pipeline.zoo import ZOO
from tests.conftest import ROOT

pytest.importorskip("triton")

from pipeline.pooling import RacedMaxPool, use_raced_max_pools, window_of  # noqa: E402


def zoo_windows() -> set:
    """Every distinct max-pool geometry in the zoo's networks."""
    windows = set()
    for name, spec in ZOO.items():
        model = importlib.import_module(spec.module).architecture(name)
        for module in model.modules():
            if isinstance(module, nn.MaxPool2d):
                window = window_of(module)
                assert window is not None, f"{name} has a max pool the fused kernels don't cover: {module}"
                windows.add(window)
    return windows


def compare_with_torch(windows: list) -> None:
    """Run in a subprocess with TRITON_INTERPRET=1: assert fused == F.max_pool2d, forward and backward."""
    import torch.nn.functional as F

    from pipeline.pool_kernels import Window, fused_max_pool

    generator = torch.Generator().manual_seed(0)
    for kernel, stride, padding, ceil_mode in windows:
        window = Window(tuple(kernel), tuple(stride), tuple(padding), ceil_mode)
        for dtype in (torch.float32, torch.bfloat16):
            for layout in (torch.contiguous_format, torch.channels_last):
                for height, width in ((13, 17), (8, 9)):
                    values = torch.randn(2, 5, height, width, generator=generator)
                    for data in (values, values.clamp(min=0)):  # clamped: ties, as after a ReLU
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
    """Run in the same subprocess: the race keeps PyTorch's pool unless the fused one is equal and faster."""
    import dataclasses
    import warnings

    from pipeline import pooling

    pool = RacedMaxPool(nn.MaxPool2d(3, stride=2, ceil_mode=True))
    x = torch.randn(1, 8, 21, 30).contiguous(memory_format=torch.channels_last)
    for fused_seconds, expected in ((1.0, True), (3.0, False)):
        pooling._gpu_seconds = lambda run, impl: 2.0 if impl is pool.pool else fused_seconds
        assert pool._race(x) is expected
    pool.window = dataclasses.replace(pool.window, stride=(1, 1))  # now it computes something else
    pooling._gpu_seconds = lambda run, impl: 2.0 if impl is pool.pool else 1.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert pool._race(x) is False
    assert "differs" in str(caught[0].message)
    assert callable(torch.cuda._sleep)  # what the GPU timing uses to queue its runs


def test_fused_kernels_equal_pytorch_for_every_zoo_pool_and_win_races_only_then():
    windows = sorted(zoo_windows(), key=repr)
    assert len(windows) >= 5  # googlenet's three, resnet's padded one, vgg's 2x2, inception's stride 1
    listed = json.dumps([[w.kernel, w.stride, w.padding, w.ceil_mode] for w in windows])
    script = f"from tests.test_pooling import *; compare_with_torch({listed}); check_race()"
    script = script.replace("true", "True").replace("false", "False")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "TRITON_INTERPRET": "1"}, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]


def test_raced_pools_leave_the_network_unchanged_on_the_cpu():
    """On the CPU the wrapped pools are PyTorch's: same activations, same pixel gradient."""
    net = load_model("googlenet", weights="random")
    wrapped = use_raced_max_pools(copy.deepcopy(net))
    pools = sum(isinstance(m, nn.MaxPool2d) for m in net.modules())
    assert pools == sum(isinstance(m, RacedMaxPool) for m in wrapped.modules()) > 0
    objective = layer_l2("inception4c")
    image = torch.rand(1, 3, 96, 128)
    grads = []
    for model in (net, wrapped):
        leaf = image.clone().requires_grad_(True)
        objective(model(leaf, objective.layers)).backward()
        grads.append(leaf.grad)
    assert torch.equal(grads[0], grads[1])
    assert all(not m.fused for m in wrapped.modules() if isinstance(m, RacedMaxPool))  # nothing raced off CUDA
