"""Faster equivalents of some layers on CUDA, each used only where it wins a race against the original.

A rewrite that is faster on one GPU, or at one size, can be slower on
another. So on CUDA the engine wraps such layers (the stem convolution, see
stem.py; inception blocks, see sibling_convs.py; average pools, see
avg_pool.py; max pools, see pool_kernels.py) in `Raced`: the first time a
wrapped layer sees an input shape, outside graph capture (so during the
engine's warm-up), both versions run on that shape, and the candidate is
kept for it if it computes the same and takes less GPU time, like cuDNN's
benchmark mode. The race costs a few milliseconds per layer and shape, once.
"""

from __future__ import annotations

import importlib.util
import warnings

import torch
from torch import nn

from .avg_pool import CentredAvgPool, is_centred_avg_pool
from .relu_pool import relu_after_pools
from .sibling_convs import merge_sibling_convs
from .stem import SpaceToDepthConv, is_stem

RACE_RUNS = 10  # forward + backward passes timed per version and shape
QUEUE_CYCLES = 20_000_000  # GPU clock cycles (~10 ms) of idling while the host queues the timed runs


class Raced(nn.Module):
    """A layer and a candidate that computes the same differently; per CUDA input shape, the faster."""

    def __init__(self, original: nn.Module, candidate: nn.Module, label: str):
        super().__init__()
        self.original, self.candidate, self.label = original, candidate, label
        self.wins: dict[tuple, bool] = {}  # input (shape, dtype, strides) -> the candidate won

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.device.type != "cuda":
            return self.original(x)
        key = (tuple(x.shape), x.dtype, x.stride())
        if key not in self.wins:
            if torch.cuda.is_current_stream_capturing():
                return self.original(x)  # timing needs the host; the warm-up decides before capture
            try:
                with torch.cuda.device(x.device):
                    self.wins[key] = self._race(x)
            except Exception as error:  # e.g. Triton cannot build its kernels here: the original still works
                warnings.warn(f"{self.label} unavailable ({error}); using the original layer", RuntimeWarning)
                self.wins[key] = False
        return (self.candidate if self.wins[key] else self.original)(x)

    def _race(self, x: torch.Tensor) -> bool:
        """True when the candidate gives the original's output and input gradient, in less GPU time."""
        numbers = torch.Generator(x.device).manual_seed(0)  # the caller's random state stays as it was
        probe = torch.empty_strided(x.shape, x.stride(), dtype=x.dtype, device=x.device).normal_(generator=numbers)
        probe.requires_grad_(True)
        with torch.enable_grad():
            ours, theirs = self.candidate(probe), self.original(probe)
            grad_out = torch.empty_like(theirs).normal_(generator=numbers)
            same = ours.shape == theirs.shape and _agree(ours, theirs)
            del ours, theirs

            def run(layer):
                return torch.autograd.grad(layer(probe), probe, grad_out)[0]

            if not (same and _agree(run(self.candidate), run(self.original))):
                warnings.warn(f"{self.label} differs from the original layer on {tuple(x.shape)}; using the original",
                              RuntimeWarning)
                return False
            return _gpu_seconds(run, self.candidate) < _gpu_seconds(run, self.original)


def _agree(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Equal up to rounding: relative L2 error within what the arithmetic allows (float32
    convolutions on a GPU round to TF32 unless that is switched off)."""
    if a.dtype != torch.float32:
        tolerance = 2e-2
    else:
        tolerance = 5e-3 if a.is_cuda and torch.backends.cudnn.allow_tf32 else 1e-4
    a, b = a.float(), b.float()
    return float((a - b).norm()) <= tolerance * float(b.norm()) + 1e-12


def _gpu_seconds(run, layer) -> float:
    """GPU time of RACE_RUNS calls, with the GPU held busy until the host has queued them all,
    so host launch costs (absent from a replayed CUDA graph) don't count."""
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    torch.cuda._sleep(QUEUE_CYCLES)
    start.record()
    for _ in range(RACE_RUNS):
        run(layer)
    end.record()
    end.synchronize()
    return start.elapsed_time(end) / 1000


def _replace(net: nn.Module, wanted, replacement) -> None:
    """Replace (in place) every submodule for which wanted(module) holds by replacement(module)."""
    found = [(parent, name, child) for parent in net.modules() for name, child in parent.named_children()
             if wanted(child)]
    for parent, name, child in found:
        setattr(parent, name, replacement(child))


def faster_layers(net: nn.Module, device: torch.device) -> nn.Module:
    """Swap in faster equivalents (in place) of a DreamNet's layers: on the CPU the stem over 2x2
    blocks, centred average pools (measured faster there) and ReLUs moved behind the strided max
    pools after them (less work, the same numbers: relu_pool.py); on CUDA inception blocks with merged
    branch heads, the stem, average and max pools, each raced against its original. Returns net."""
    if device.type != "cuda":
        _replace(net, is_stem, SpaceToDepthConv)
        _replace(net, is_centred_avg_pool, CentredAvgPool)
        relu_after_pools(net.stages)
        return net
    for name, stage in net.stages.items():  # first: tracing needs the blocks' own layers
        merged = merge_sibling_convs(stage)
        if merged is not None:
            net.stages[name] = Raced(stage, merged, "merged branch convolutions")
    _replace(net, is_stem, lambda conv: Raced(conv, SpaceToDepthConv(conv), "stem over 2x2 blocks"))
    _replace(net, is_centred_avg_pool, lambda pool: Raced(pool, CentredAvgPool(pool), "avg pool, pooled backward"))
    if importlib.util.find_spec("triton") is not None:
        from .pool_kernels import FusedMaxPool, window_of  # imports Triton, which only CUDA needs

        _replace(net, lambda m: type(m) is nn.MaxPool2d and window_of(m) is not None,
                 lambda pool: Raced(pool, FusedMaxPool(window_of(pool)), "fused max pool"))
    return net


def race_results(net: nn.Module) -> dict[str, tuple[int, int]]:
    """Per kind of faster layer: (input shapes where it won, input shapes raced)."""
    results: dict[str, tuple[int, int]] = {}
    for module in net.modules():
        if isinstance(module, Raced):
            won, raced = results.get(module.label, (0, 0))
            results[module.label] = (won + sum(module.wins.values()), raced + len(module.wins))
    return results
