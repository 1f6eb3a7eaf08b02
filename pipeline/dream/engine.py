"""The renderer's dream: dream.py's math, run as fast as the device allows.

On a CUDA GPU the network runs in bf16 with channels_last, and each distinct
dream (frame size, octaves, iterations, objective terms, smoothing radius)
is captured once as a CUDA graph and then replayed per frame, thousands of
kernels in one launch. What changes per frame (jitter offsets, step size,
term weights, smoothing kernel, the frame itself) is copied into the graph's
fixed input tensors first, without waiting for the GPU. Frames too large for
the memory cap are dreamed in tiles. On the CPU the same steps run eagerly,
channels_last, in bf16 where the CPU has bf16 matrix units, else in float32.
On both, some layers are swapped for faster equivalents that compute the
same (racing.py).
"""

from __future__ import annotations

import copy
import logging
import weakref
from dataclasses import dataclass
from typing import Callable, Mapping

import torch

from ..image.blur import gaussian_kernel
from .core import Precision, jitter_offsets, octave_sizes, pixel_gradient, run_octaves, tile_grid
from ..image.pixels import to_device
from .caches import Recent
from .objectives import Guide, Objective, objective_of, structure
from .settings import DreamSettings
from ..models.fast.racing import faster_layers

log = logging.getLogger("dreamzoom.dream")
PRECISIONS = ("auto", "fp32", "bf16")
PREPARED_PER_NET = 4  # prepared copies kept per loaded network (device, dtype, layout, faster layers)
_PREPARED: "weakref.WeakKeyDictionary[torch.nn.Module, dict]" = weakref.WeakKeyDictionary()
GRAPH_CACHE = 6  # captured dreams kept; a scene rarely needs more than a few
OBJECTIVES_KEPT = 32  # term structures with their weight tensors (crossfades make a few per segment)
TILE_SIZES_KEPT = 32  # decided tile sizes, per layer set and frame size
PROBE_SIDE = 256  # pixels: the square used to measure memory per pixel
MEMORY_HEADROOM = 0.85  # share of the cap the dream's activations may use
FRAME_BUFFERS = 12  # whole-frame float32 images alive at once in a step (rolled, gradient, blur, ...)


def cpu_multiplies_bf16_natively() -> bool:
    """True on CPUs with bf16 matrix units (Intel AMX) that the OS lets us use.

    There a dream step's gradient is 1.6x (Inception) to 4.9x (VGG) faster
    in bf16 than in fp32; elsewhere bf16 runs on vector units or is emulated,
    and is not known to be faster.
    """
    try:
        capabilities = getattr(torch.cpu, "get_capabilities", None)
        has_amx = capabilities()["amx_bf16"] if capabilities else torch.cpu._is_amx_tile_supported()
        return bool(has_amx) and bool(torch.cpu._init_amx())
    except (AttributeError, KeyError, RuntimeError):  # a torch without these queries: assume none
        return False


def _layout_of(image: torch.Tensor) -> torch.memory_format:
    channels_last = image.is_contiguous(memory_format=torch.channels_last) and not image.is_contiguous()
    return torch.channels_last if channels_last else torch.contiguous_format


def resolve_precision(requested: str, device: torch.device) -> Precision:
    """auto: bf16 on CUDA and on CPUs with bf16 matrix units, else fp32; always channels_last
    (faster convolutions everywhere)."""
    if requested not in PRECISIONS:
        raise ValueError(f"precision '{requested}': use one of {', '.join(PRECISIONS)}")
    if requested == "auto":
        bf16 = torch.device(device).type == "cuda" or cpu_multiplies_bf16_natively()
    else:
        bf16 = requested == "bf16"
    return Precision(torch.bfloat16 if bf16 else torch.float32, channels_last=True)


@dataclass
class _Captured:
    """One captured dream: its graph and the fixed tensors it reads and writes."""

    graph: torch.cuda.CUDAGraph
    image: torch.Tensor
    offsets: torch.Tensor
    step: torch.Tensor
    kernel: torch.Tensor | None
    out: torch.Tensor


class DreamEngine:
    """Dreams frames for the renderer; built once per render, holds the prepared network."""

    def __init__(
        self,
        net,
        device: torch.device,
        precision: str | Precision = "auto",
        max_vram_gib: float | None = None,
        graphs: bool | None = None,
        max_tile_pixels: int | None = None,
        fast_layers: bool = True,
        on_step: Callable[[float], None] | None = None,
        guide_target: Callable[[Guide], torch.Tensor] | None = None,
    ):
        """max_vram_gib caps the GPU memory a frame's dream may use (tiles when it would not
        fit; default: what the GPU has). max_tile_pixels forces tiles of that size (any device).
        fast_layers swaps in faster equivalents of some layers (racing.py); off, the network
        computes exactly as the caller's. on_step is called with the share of a frame's steps
        done (eager dreams only) and may raise to stop mid-frame; guide_target gives a guide
        picture's features, (C,), for guide objectives.

        Nothing process-wide is set here: cuDNN's autotuning and the allocator's settings are
        configure_runtime()'s (runtime.py), for whoever owns the process."""
        self.device = torch.device(device)
        self.precision = precision if isinstance(precision, Precision) else resolve_precision(precision, self.device)
        self.spec = net.spec
        cuda = self.device.type == "cuda"
        self.fast_layers = fast_layers
        self.net = self._prepared(net)
        self.graphs = cuda if graphs is None else graphs and cuda
        self.max_vram = max_vram_gib * 2**30 if max_vram_gib else None
        self.max_tile_pixels = max_tile_pixels
        self._tile_pixels_for: Recent[int | None] = Recent(TILE_SIZES_KEPT)
        self._captured: Recent[_Captured] = Recent(GRAPH_CACHE)
        self._objectives: Recent[tuple[Objective, torch.Tensor]] = Recent(OBJECTIVES_KEPT)
        self.guide_target = guide_target
        self._pool = torch.cuda.graph_pool_handle() if self.graphs else None
        self.on_step = on_step

    def _prepared(self, net):
        """A copy of the network in the engine's layout and dtype (the caller's stays as it is),
        made once per network and setting: renders in one process (a batch, a storyboard then
        the render, a notebook) share it, as nothing dreams by changing the network."""
        layout = torch.channels_last if self.precision.channels_last else torch.contiguous_format
        key = (self.device, self.precision.dtype, layout, self.fast_layers)
        copies = _PREPARED.setdefault(net, {})
        if key not in copies:
            prepared = copy.deepcopy(net)
            if self.fast_layers:  # new layers draw initial weights, then take the old ones: not from the caller's RNG
                with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
                    faster_layers(prepared, self.device)
            if len(copies) >= PREPARED_PER_NET:
                copies.pop(next(iter(copies)))
            copies[key] = prepared.to(dtype=self.precision.dtype, memory_format=layout)  # new layers too
        return copies[key]

    def describe(self) -> str:
        dtype = str(self.precision.dtype).removeprefix("torch.")
        parts = [dtype] + (["channels_last"] if self.precision.channels_last else [])
        parts.append("CUDA graphs" if self.graphs else "eager")
        if self.fast_layers:
            parts.append("faster layers raced" if self.device.type == "cuda" else "faster layers")
        return ", ".join(parts)

    # -- objective with term weights as a device tensor ---------------------------------------

    def _objective(self, terms: Mapping[Objective, float]) -> tuple[Objective, tuple[Objective, ...]]:
        """The weighted sum of `terms` with its weights read from a tensor, so a crossfade changes
        numbers, not the captured graph; and the terms' order, which the capture depends on."""
        order = structure(terms)

        def weighted():
            weights = torch.zeros(len(order), device=self.device)
            return objective_of(order, weights, self.guide_target), weights

        objective, weights = self._objectives.get(order, weighted)
        weights.copy_(to_device(torch.tensor([terms[t] for t in order], dtype=torch.float32), self.device))
        return objective, order

    # -- memory and tiles ------------------------------------------------------------------------

    def tile_pixels_for(self, objective: Objective, height: int, width: int) -> int | None:
        """Largest window (pixels) whose dream step fits the memory cap; None when all fits.

        Decided once per layer set and frame size, so the captured graphs stay valid."""
        if self.max_tile_pixels is not None:
            return self.max_tile_pixels
        if self.device.type != "cuda":
            return None
        return self._tile_pixels_for.get((objective.layers, height, width),
                                         lambda: self._fitting_pixels(objective, height, width))

    def _fitting_pixels(self, objective: Objective, height: int, width: int) -> int | None:
        bytes_per_pixel = self._measure_bytes_per_pixel(objective)
        cap = self.max_vram or torch.cuda.get_device_properties(self.device).total_memory
        frame_buffers = FRAME_BUFFERS * height * width * 3 * 4  # whole-frame float32 tensors of a step
        budget = (cap - torch.cuda.memory_allocated(self.device)) * MEMORY_HEADROOM - frame_buffers
        pixels = int(budget / bytes_per_pixel)
        if pixels < 64 * 64:
            limit = f"--max-vram {cap / 2**30:g} GiB" if self.max_vram else f"the GPU's {cap / 2**30:.0f} GiB"
            raise MemoryError(
                f"{limit} leaves too little for a {width}x{height} dream after the "
                f"{torch.cuda.memory_allocated(self.device) / 2**30:.1f} GiB already in use"
            )
        return None if pixels >= height * width else pixels

    def _measure_bytes_per_pixel(self, objective: Objective) -> float:
        """Peak memory of one gradient on a small square, per pixel (activations scale with area)."""
        probe = torch.rand(1, 3, PROBE_SIDE, PROBE_SIDE, device=self.device)
        whole = tile_grid(PROBE_SIDE, PROBE_SIDE, None)
        with torch.enable_grad():
            pixel_gradient(self.net, probe, objective, whole, self.precision)  # layer races happen here
            torch.cuda.synchronize(self.device)
            before = torch.cuda.memory_allocated(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            pixel_gradient(self.net, probe, objective, whole, self.precision)
        torch.cuda.synchronize(self.device)
        return (torch.cuda.max_memory_allocated(self.device) - before) / PROBE_SIDE**2

    # -- dreaming ----------------------------------------------------------------------------------

    def dream(
        self,
        image: torch.Tensor,
        terms: Mapping[Objective, float],
        settings: DreamSettings,
        generator: torch.Generator,
    ) -> torch.Tensor:
        """DeepDream `image` (1, 3, H, W) toward {objective: weight}; returns a new tensor."""
        if settings.iterations <= 0 or settings.step <= 0 or not terms:
            return image
        objective, order = self._objective(terms)
        height, width = image.shape[2:]
        sizes = octave_sizes(height, width, settings.octaves, settings.octave_scale, self.spec.min_size,
                             settings.top)
        offsets = jitter_offsets(len(sizes) * settings.iterations, settings.jitter, generator)
        kernel = gaussian_kernel(settings.smooth) if settings.smooth > 0 else None
        tile_pixels = self.tile_pixels_for(objective, *sizes[-1])  # the top octave is the largest dreamed

        def body(step, offsets, kernel, image=image, on_step=None):
            return run_octaves(self.net, image, objective, sizes, settings.iterations, step, offsets, kernel,
                               tile_pixels, self.precision, on_step)

        if self.graphs:
            key = (tuple(image.shape), order, tuple(sizes), settings.iterations,
                   None if kernel is None else kernel.numel(), tile_pixels)
            try:
                return self._replay(key, body, image, offsets, settings.step, kernel)
            except RuntimeError as error:
                if "captur" not in str(error).lower():
                    raise
                log.warning("warning: CUDA graph capture failed (%s); dreaming without graphs", error)
                self.graphs = False
        kernel = None if kernel is None else to_device(kernel, self.device)
        # In the network's layout, where its gradient comes back: a step's per-pixel work (jitter, blur,
        # the step) is slowest where a 3-channel channels_last tensor meets a channels-first one.
        working = image.contiguous(memory_format=torch.channels_last) if self.precision.channels_last else image
        frame = body(settings.step, to_device(offsets, self.device), kernel, working, self.on_step)
        return frame if working is image else frame.contiguous(memory_format=_layout_of(image))  # as it came

    def _replay(self, key, body, image, offsets, step: float, kernel) -> torch.Tensor:
        """Replay the graph for `key`, capturing it first if it is new."""

        def capture():
            captured = self._inputs(image, offsets, kernel)
            self._fill(captured, image, offsets, step, kernel)  # what the warm-up runs on
            self._capture(captured, lambda c: body(c.step, c.offsets, c.kernel, c.image))
            return captured

        captured = self._captured.get(key, capture)
        self._fill(captured, image, offsets, step, kernel)
        captured.graph.replay()
        return captured.out.clone()

    def _inputs(self, image, offsets, kernel) -> _Captured:
        def like(t):
            return None if t is None else torch.empty(t.shape, dtype=t.dtype, device=self.device)

        return _Captured(None, like(image), like(offsets), torch.zeros((), device=self.device), like(kernel), None)

    def _fill(self, captured: _Captured, image, offsets, step: float, kernel) -> None:
        captured.image.copy_(image)
        captured.offsets.copy_(to_device(offsets, self.device))
        captured.step.fill_(step)
        if kernel is not None:
            captured.kernel.copy_(to_device(kernel, self.device))

    def _capture(self, captured: _Captured, body) -> None:
        """Warm up on a side stream (cuDNN picks its kernels), then record `body` once."""
        side = torch.cuda.Stream(self.device)
        side.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(side):
            body(captured)
        torch.cuda.current_stream(self.device).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, pool=self._pool):
            captured.out = body(captured)
        captured.graph = graph
