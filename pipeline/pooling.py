"""Max pooling on CUDA: PyTorch's kernels or the fused ones (pool_kernels.py), whichever is faster.

PyTorch's channels_last max pool took about a third of a 1080p GoogLeNet
dream step on an H100. Each pool of the engine's network is wrapped so that,
the first time it sees an input shape (outside graph capture, so during the
engine's warm-up), it runs both implementations on that shape, keeps PyTorch's
if the results differ, and otherwise uses the faster one from then on, like
cuDNN's benchmark mode. A GPU where PyTorch's kernels win keeps them.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from .pool_kernels import Window, fused_max_pool, on_device_of

RACE_RUNS = 10  # forward + backward passes timed per implementation and shape
QUEUE_CYCLES = 20_000_000  # GPU clock cycles (~10 ms) of idling while the host queues the timed runs


def window_of(pool: nn.MaxPool2d) -> Window | None:
    """The pool's geometry, or None when the fused kernels don't cover it."""

    def pair(value):
        return tuple(value) if isinstance(value, (tuple, list)) else (value, value)

    kernel = pair(pool.kernel_size)
    stride = pair(pool.stride if pool.stride else pool.kernel_size)
    if pair(pool.dilation) != (1, 1) or pool.return_indices or kernel[0] * kernel[1] > 127:
        return None  # the window position must fit in one signed byte
    return Window(kernel, stride, pair(pool.padding), bool(pool.ceil_mode))


class RacedMaxPool(nn.Module):
    """An nn.MaxPool2d that picks, per CUDA input shape, the faster of two equal implementations."""

    def __init__(self, pool: nn.MaxPool2d):
        super().__init__()
        self.pool = pool
        self.window = window_of(pool)
        self.fused: dict[tuple, bool] = {}  # input (shape, dtype, strides) -> fused kernels won

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.window is None or x.device.type != "cuda" or x.dim() != 4:
            return self.pool(x)
        key = (tuple(x.shape), x.dtype, x.stride())
        if key not in self.fused:
            if torch.cuda.is_current_stream_capturing():
                return self.pool(x)  # timing needs the host; the warm-up decides before capture
            try:
                self.fused[key] = self._race(x)
            except Exception as error:  # e.g. Triton cannot build its kernels here: PyTorch's still work
                warnings.warn(f"fused max pool unavailable ({error}); using PyTorch's", RuntimeWarning)
                self.fused[key] = False
        return fused_max_pool(x, self.window) if self.fused[key] else self.pool(x)

    def _race(self, x: torch.Tensor) -> bool:
        """True when the fused kernels give the same result as PyTorch's, in less GPU time."""
        probe = torch.empty_strided(x.shape, x.stride(), dtype=x.dtype, device=x.device).normal_()
        probe.requires_grad_(True)

        def fused(t):
            return fused_max_pool(t, self.window)

        with on_device_of(x), torch.enable_grad():  # events and the queueing idle go to x's GPU
            ours, theirs = fused(probe), self.pool(probe)
            grad_out = torch.randn_like(theirs)
            equal = ours.shape == theirs.shape and torch.equal(ours, theirs)
            del ours, theirs

            def run(pool):
                return torch.autograd.grad(pool(probe), probe, grad_out)[0]

            if not (equal and _close(run(fused), run(self.pool))):
                warnings.warn(f"fused max pool differs from PyTorch's on {tuple(x.shape)}; using PyTorch's",
                              RuntimeWarning)
                return False
            return _gpu_seconds(run, fused) < _gpu_seconds(run, self.pool)


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Equal up to summation order (a pixel may win several windows)."""
    return torch.allclose(a.float(), b.float(), rtol=1e-2 if a.dtype != torch.float32 else 1e-5, atol=1e-6)


def _gpu_seconds(run, pool) -> float:
    """GPU time of RACE_RUNS calls, with the GPU held busy until the host has queued them all,
    so host launch costs (absent from a replayed CUDA graph) don't count."""
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    torch.cuda._sleep(QUEUE_CYCLES)
    start.record()
    for _ in range(RACE_RUNS):
        run(pool)
    end.record()
    end.synchronize()
    return start.elapsed_time(end) / 1000


def use_raced_max_pools(net: nn.Module) -> nn.Module:
    """Wrap every nn.MaxPool2d of `net` in a RacedMaxPool (in place); returns net."""
    pools = [(parent, name, child) for parent in net.modules() for name, child in parent.named_children()
             if type(child) is nn.MaxPool2d]
    for parent, name, pool in pools:
        setattr(parent, name, RacedMaxPool(pool))
    return net


def race_results(net: nn.Module) -> tuple[int, int]:
    """(input shapes where the fused kernels won, input shapes raced) over the network's pools."""
    decided = [won for module in net.modules() if isinstance(module, RacedMaxPool) for won in module.fused.values()]
    return sum(decided), len(decided)
