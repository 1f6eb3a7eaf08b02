"""Benchmark the dream loop: python -m pipeline.bench [options]

Prints, for one model, size and dream settings: milliseconds per top-octave
iteration, seconds per frame and frames per second end to end (motion,
dream, host copy and encoding), peak GPU memory, and the machine and
versions. The same work is also run by a deliberately plain eager fp32
reference loop, and the speed-up of the renderer's path over it is printed.
On the CPU, small sizes make it a quick smoke test.
"""

from __future__ import annotations

import argparse
import math
import platform
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torchvision.transforms.functional import gaussian_blur

from . import images
from .dream import ascent_step, dream, octave_sizes
from .encode import VideoWriter
from .models import load_model
from .motion import warp
from .objectives import layer_l2
from .plan import DreamSettings
from .zoo import ZOO


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m pipeline.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="inception_v3", choices=list(ZOO))
    parser.add_argument("--weights", default="pretrained", help="pretrained or random (random needs no download)")
    parser.add_argument("--layer", help="layer or alias (default: the model's 'parts')")
    parser.add_argument("--size", default="640x360", help="WIDTHxHEIGHT (default 640x360)")
    parser.add_argument("--octaves", type=int, default=3)
    parser.add_argument("--octave-scale", type=float, default=1.4)
    parser.add_argument("--iterations", type=int, default=8)
    parser.add_argument("--frames", type=int, default=3, help="frames timed end to end")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--skip-reference", action="store_true", help="do not run the eager reference")
    return parser.parse_args(argv)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def reference_dream(net, image, layer, settings: DreamSettings, generator) -> torch.Tensor:
    """The textbook loop, eager fp32, nothing cached: the yardstick for the renderer's path."""
    sizes = octave_sizes(*image.shape[2:], settings.octaves, settings.octave_scale, net.spec.min_size)
    detail = torch.zeros(1, 3, *sizes[0], device=image.device)
    for size in sizes:
        base = F.interpolate(image, size=size, mode="bilinear", align_corners=False)
        x = base + F.interpolate(detail, size=size, mode="bilinear", align_corners=False)
        for _ in range(settings.iterations):
            dy, dx = torch.randint(-settings.jitter, settings.jitter + 1, (2,), generator=generator).tolist()
            shifted = torch.roll(x, (dy, dx), (2, 3)).detach().requires_grad_(True)
            net(shifted, [layer])[layer].square().mean().backward()
            grad = torch.roll(shifted.grad, (-dy, -dx), (2, 3))
            if settings.smooth > 0:
                radius = max(1, math.ceil(3 * settings.smooth))
                grad = gaussian_blur(grad, [2 * radius + 1] * 2, [settings.smooth] * 2)
            x = (x + settings.step * grad / (grad.abs().mean() + 1e-8)).clamp(0, 1)
        detail = x - base
    return x.detach()


def time_frames(step_frame, frames: int, device) -> float:
    """Seconds per frame, after one warm-up frame."""
    step_frame()
    sync(device)
    began = time.perf_counter()
    for _ in range(frames):
        step_frame()
    sync(device)
    return (time.perf_counter() - began) / frames


def main(argv=None) -> int:
    args = parse_args(argv)
    from .cli import pick_device

    device = pick_device(args.device)
    width, height = (int(v) for v in args.size.lower().split("x"))
    spec = ZOO[args.model]
    layer = spec.resolve(args.layer or "parts")
    settings = DreamSettings(args.octaves, args.octave_scale, args.iterations, 0.004, 16, 0.5)
    net = load_model(args.model, device, args.weights)
    start = images.to_tensor(images.smooth_noise(width, height, 0), device)
    objective = layer_l2(layer)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)

    # ms per top-octave iteration (the full-size gradient step).
    generator = torch.Generator().manual_seed(0)
    with torch.enable_grad():
        ascent_step(net, start, objective, settings.step, settings.jitter, settings.smooth, generator)
        sync(device)
        began = time.perf_counter()
        repeats = max(3, args.iterations)
        for _ in range(repeats):
            ascent_step(net, start, objective, settings.step, settings.jitter, settings.smooth, generator)
        sync(device)
    iteration_ms = (time.perf_counter() - began) / repeats * 1000

    def timed(dream_frame) -> float:
        """Seconds per frame of zoom + dream + host copy + H.264 encoding."""
        with tempfile.TemporaryDirectory() as folder:
            writer = VideoWriter(Path(folder) / "bench.mp4", even_width, even_height, 30, preset="veryfast")
            state = {"frame": even_start}

            def one_frame():
                state["frame"] = dream_frame(warp(state["frame"], 1.02))
                writer.write(images.to_pixels(state["frame"]))

            seconds = time_frames(one_frame, args.frames, device)
            writer.discard()
        return seconds

    even_width, even_height = width + width % 2, height + height % 2
    even_start = F.interpolate(start, size=(even_height, even_width), mode="bilinear", align_corners=False)
    def renderer_path(frame):
        return dream(net, frame, objective, settings, generator)

    def reference_path(frame):
        with torch.enable_grad():
            return reference_dream(net, frame, layer, settings, generator)

    # Two alternating rounds, best of each: the order of runs must not pick the winner.
    rounds = 1 if args.skip_reference else 2
    seconds, reference = float("inf"), None
    for _ in range(rounds):
        seconds = min(seconds, timed(renderer_path))
        if not args.skip_reference:
            reference = min(reference or float("inf"), timed(reference_path))
    peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None

    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else "none"
    print(f"machine   {platform.node()} | {platform.processor() or platform.machine()} | "
          f"{torch.get_num_threads()} CPU threads | GPU {gpu}")
    print(f"versions  python {platform.python_version()} | torch {torch.__version__}")
    print(f"workload  {args.model} ({args.weights}) @ {layer}, {width}x{height}, {args.octaves} octaves x"
          f"{args.octave_scale}, {args.iterations} iterations, on {device}")
    print(f"{'top-octave iteration':<28}{iteration_ms:10.1f} ms")
    print(f"{'end to end':<28}{seconds:10.3f} s/frame  {1 / seconds:8.2f} frames/s")
    if peak is not None:
        print(f"{'peak GPU memory':<28}{peak:10.2f} GiB")
    if reference is not None:
        print(f"{'eager fp32 reference':<28}{reference:10.3f} s/frame  (renderer is {reference / seconds:.2f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
