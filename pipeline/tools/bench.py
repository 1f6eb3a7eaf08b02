"""Benchmark the dream loop: python -m pipeline.bench [options]

Prints, for one model, size and dream settings: milliseconds per top-octave
iteration, seconds per frame and frames per second end to end (motion,
dream, colour, host copy and H.264 encoding, exactly as a render does them),
the first frame's set-up cost, peak GPU memory, and the machine and versions.
It also states how close a step runs to the machine's limit: the arithmetic of
one top-octave iteration, the rate achieved, and the rate this device reaches
on a large matrix product in the same dtype, measured in the same run; and,
with --memory, the peak resident memory of whole CPU frames. The same work
is also run by a deliberately plain eager fp32 reference loop, and the
speed-up over it is printed, with how closely the renderer's gradients
agree with fp32. On the CPU, small sizes make it a quick smoke test.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import multiprocessing
import platform
import queue
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.func import functional_call
from torch.profiler import ProfilerActivity, profile
from torch.utils.flop_counter import FlopCounterMode
from torchvision.transforms.functional import gaussian_blur

from ..image import pixels as images
from ..dream.core import octave_sizes, pixel_gradient, tile_grid
from ..output.encoder import VideoWriter
from ..dream.engine import PRECISIONS, DreamEngine
from ..dream.runtime import configure_runtime
from ..output.handoff import BackgroundWriter
from ..session.recipe import Dreamer
from ..models.network import load_model
from ..image.motion import warp
from ..dream.objectives import layer_l2
from ..dream.settings import DreamSettings
from ..plan import make_plan
from ..models.fast.racing import race_results
from ..scene import Scene
from ..models.zoo import ZOO

STEP, JITTER, SMOOTH, ZOOM, COLOR = 0.004, 16, 0.5, 1.02, 0.15
PROFILED_STEPS = 3
MATMUL_SIDES = {"cpu": (1024, 2048, 3072), "cuda": (4096, 8192)}  # large enough to be bound by arithmetic
MATMUL_RUNS = 5  # rounds over the sizes: a shared machine's rate swings, the best is the yardstick
MEMORY_SIZES = "1920x1080,3840x2160"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m pipeline.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="inception_v3", choices=list(ZOO))
    parser.add_argument("--weights", default="pretrained", help="pretrained, random (needs no download) or a file")
    parser.add_argument("--layer", help="layer or alias (default: the model's 'parts')")
    parser.add_argument("--size", default="640x360", help="WIDTHxHEIGHT (default 640x360)")
    parser.add_argument("--octaves", type=int, default=4)
    parser.add_argument("--octave-scale", type=float, default=1.8)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--frames", type=int, default=3, help="frames timed end to end")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--precision", default="auto", choices=PRECISIONS)
    parser.add_argument("--max-vram", type=float, metavar="GIB", help="cap on the dream's GPU memory (tiles)")
    parser.add_argument("--reference-frames", type=int, default=2, help="frames the eager reference is timed on")
    parser.add_argument("--skip-reference", action="store_true", help="do not run the eager reference")
    parser.add_argument("--no-fast-layers", action="store_true",
                        help="keep every layer as the model has it (no faster equivalents, see racing.py)")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="also list the N operations (GPU kernels on CUDA) costing most in a top-octave step")
    parser.add_argument("--memory", nargs="?", const=MEMORY_SIZES, metavar="SIZES",
                        help=f"also the peak resident memory of a CPU frame per size (default {MEMORY_SIZES})")
    parser.add_argument("--json", action="store_true",
                        help="print the figures as one JSON object (times in ms or s as named, share as a fraction)")
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


def timed(work, count: int, device) -> float:
    """Seconds per call of work(), after one warm-up call."""
    work()
    sync(device)
    began = time.perf_counter()
    for _ in range(count):
        work()
    sync(device)
    return (time.perf_counter() - began) / count


def bench_scene(args, width: int, height: int, layer: str, frames: int, folder: Path) -> Scene:
    return Scene.from_data({
        "output": "bench.mp4", "size": [width, height], "fps": 30, "frames": frames, "seed": 0, "start": "noise",
        "model": args.model, "weights": args.weights,
        "dream": {"octaves": args.octaves, "octave_scale": args.octave_scale, "iterations": args.iterations,
                  "step": STEP, "jitter": JITTER, "smooth": SMOOTH},
        "motion": {"zoom": ZOOM}, "color": {"strength": COLOR},
        "segments": [{"frames": [0, frames - 1], "layers": [layer]}],
    }, base_dir=folder, name="bench")


def render_frames(scene, plan, net, device, engine_options: dict, folder: Path,
                  count: int) -> tuple[float, float, float]:
    """Seconds for frames 0-1 (set-up), per frame after (until each frame is in ffmpeg's
    hands), and to finish the file, of the renderer's own loop: motion, dream, colour,
    handoff to the writer thread and H.264 encoding."""
    dreamer = Dreamer(plan, net, device, **engine_options)
    writer = BackgroundWriter(VideoWriter(folder / "bench.mp4", plan.width, plan.height, plan.fps))
    frames = dreamer.frames()
    began = time.perf_counter()
    for _ in range(2):  # frame 0 is the start image; frame 1 sets up (autotuning, graph capture)
        writer.write(next(frames)[1])
    sync(device)
    setup = time.perf_counter() - began
    began = time.perf_counter()
    for _ in range(count):
        writer.write(next(frames)[1])
    writer.drain()
    seconds = (time.perf_counter() - began) / count
    began = time.perf_counter()
    writer.finish()  # x264 encodes the frames it held for look-ahead: once per render
    return setup, seconds, time.perf_counter() - began


def reference_frames(net, start, layer, settings, device, folder: Path, count: int) -> float:
    """Seconds per frame of zoom + reference dream + blocking host copy + blocking encode."""
    writer = VideoWriter(folder / "reference.mp4", start.shape[3], start.shape[2], 30)
    generator = torch.Generator().manual_seed(0)
    state = {"frame": start}

    def one_frame():
        with torch.enable_grad():
            state["frame"] = reference_dream(net, warp(state["frame"], ZOOM), layer, settings, generator)
        writer.write(images.to_pixels(state["frame"]))

    seconds = timed(one_frame, count, device)
    writer.discard()
    return seconds


def encoding_rate(frame: torch.Tensor, folder: Path, count: int = 24) -> float:
    """Frames per second ffmpeg alone takes at the renderer's settings, fed `frame` panned."""
    pixels = images.to_pixels(frame)
    writer = VideoWriter(folder / "encode.mp4", pixels.shape[1], pixels.shape[0], 30)
    began = time.perf_counter()
    for index in range(count):
        writer.write(np.roll(pixels, 3 * index, axis=1))
    writer.finish()
    return count / (time.perf_counter() - began)


def costliest_operations(eager: DreamEngine, start, terms, device, count: int) -> str:
    """Where a top-octave step's time goes: the `count` costliest operations of PROFILED_STEPS
    steps of an engine without graphs (a graph runs the same kernels, but a profiler sees one launch)."""
    step = DreamSettings(1, 1.0, 1, STEP, JITTER, SMOOTH)
    generator = torch.Generator().manual_seed(0)
    timed(lambda: eager.dream(start, terms, step, generator), 1, device)  # autotuning, layer races
    cuda = device.type == "cuda"
    with profile(activities=[ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])) as profiler:
        for _ in range(PROFILED_STEPS):
            eager.dream(start, terms, step, generator)
        sync(device)
    key = "self_device_time_total" if cuda else "self_cpu_time_total"
    return profiler.key_averages().table(sort_by=key, row_limit=count)


def iteration_flops(net, objective, height: int, width: int) -> int:
    """Arithmetic of one top-octave iteration as the model defines it: the forward pass to the
    objective's layers and the gradient to the input only (the weights need none). Counted on meta
    tensors, so nothing is computed, and on the model's own layers: faster equivalents compute the
    same function, and what they spend beyond it is not useful work."""
    meta = {name: torch.empty_like(t, device="meta")
            for name, t in itertools.chain(net.named_parameters(), net.named_buffers())}
    image = torch.empty(1, 3, height, width, device="meta", requires_grad=True)
    with FlopCounterMode(display=False) as counter, torch.enable_grad():
        objective(functional_call(net, meta, (image, objective.layers))).backward()
    return counter.get_total_flops()


def matmul_rate(device: torch.device, dtype: torch.dtype) -> tuple[float, int]:
    """FLOP/s of this device on a square matrix product in `dtype`: the ceiling a dream step's
    convolutions can be held to; and the side it was reached at. The best over MATMUL_SIDES and
    MATMUL_RUNS rounds through them (each timing after a warm-up), because on a shared machine one
    timing can be slowed by others' work, never sped up."""
    calls = 20 if device.type == "cuda" else 2
    operands = {side: [torch.randn(side, side, device=device).to(dtype) for _ in range(2)]
                for side in MATMUL_SIDES[device.type]}
    best, best_side = 0.0, 0
    for _ in range(MATMUL_RUNS):
        for side, (a, b) in operands.items():
            rate = 2 * side**3 / timed(lambda: a @ b, calls, device)
            if rate > best:
                best, best_side = rate, side
    return best, best_side


def frame_memory(args, width: int, height: int, results) -> None:
    """In a child process, so nothing else the benchmark did counts: dream one CPU frame of the
    benchmark's model and settings at width x height, with one iteration per octave (a step's
    memory is freed before the next, so more iterations peak no higher), and put (peak resident
    bytes, resident bytes before the dream) on `results`."""
    import resource

    unit = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux

    def peak() -> int:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * unit

    configure_runtime()  # as the command's renders run
    spec = ZOO[args.model]
    net = load_model(args.model, "cpu", args.weights)
    engine = DreamEngine(net, torch.device("cpu"), args.precision, fast_layers=not args.no_fast_layers)
    image = images.to_tensor(images.smooth_noise(width, height, 0), "cpu")
    settings = DreamSettings(args.octaves, args.octave_scale, 1, STEP, JITTER, SMOOTH)
    before = peak()
    engine.dream(image, {layer_l2(spec.resolve(args.layer or "parts")): 1.0}, settings, torch.Generator())
    results.put((peak(), before))


def frame_memories(args) -> list[tuple[str, tuple[int, int] | int]]:
    """(size, (peak resident bytes, bytes before the dream)) of a CPU frame per size in args.memory, or
    (size, the child's exit code) where it died (out of memory, most likely) before it could say."""
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited pages or threads
    measured = []
    for size in args.memory.split(","):
        width, height = (int(v) for v in size.lower().split("x"))
        results = context.Queue()
        child = context.Process(target=frame_memory, args=(args, width, height, results))
        child.start()
        found = None
        while found is None and (child.is_alive() or not results.empty()):
            try:
                found = results.get(timeout=1.0)
            except queue.Empty:
                pass
        child.join()
        measured.append((f"{width}x{height}", found if found is not None else child.exitcode))
    return measured


def cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.double() * b.double()).sum() / (a.double().norm() * b.double().norm() + 1e-30))


def print_figures(f: dict, args, quarter) -> None:
    """The figures as the lines of text the benchmark prints without --json."""
    print(f"machine   {f['machine']} | {f['processor']} | {f['cpu_threads']} CPU threads | GPU {f['gpu'] or 'none'}")
    print(f"versions  python {f['python']} | torch {f['torch']} | cuDNN {f['cudnn']}")
    print(f"workload  {f['model']} ({f['weights']}) @ {f['layer']}, {f['width']}x{f['height']}, {f['octaves']} octaves x"
          f"{f['octave_scale']}, {f['iterations']} iterations, on {f['device']} ({f['engine']})")
    iteration_ms, reference_ms = f["iteration_ms"], f["reference_iteration_ms"]
    print(f"{'top-octave iteration':<28}{iteration_ms:10.2f} ms", end="")
    print(f"   (eager fp32 {reference_ms:.2f} ms, {reference_ms / iteration_ms:.1f}x)" if reference_ms else "")
    print(f"{'  arithmetic':<28}{f['gflop']:10.3f} GFLOP    (forward to {f['layer']} and the input gradient)")
    print(f"{'  achieved':<28}{f['achieved_gflops']:10.2f} GFLOP/s")
    side = f["matmul_side"]
    print(f"{'  ' + f['dtype'] + ' matmul':<28}{f['matmul_gflops']:10.1f} GFLOP/s  ({side}x{side}, "
          f"the best of {MATMUL_RUNS} rounds over {len(MATMUL_SIDES[f['device'].split(':')[0]])} sizes, this device)")
    print(f"{'  share of matmul':<28}{100 * f['share']:10.1f} %")
    print(f"{'first frame (set-up)':<28}{f['setup_s']:10.2f} s")
    print(f"{'end to end':<28}{f['s_per_frame']:10.3f} s/frame  {f['frames_per_s']:8.2f} frames/s")
    print(f"{'  of which the dream':<28}{f['dream_s_per_frame']:10.3f} s/frame")
    encode = f["encode_s_per_frame"]
    print(f"{'  encoding alone (ffmpeg)':<28}{encode:10.3f} s/frame  {1 / encode:8.2f} frames/s")
    print(f"{'finishing the file (once)':<28}{f['finish_s']:10.2f} s")
    if f["peak_gpu_gib"] is not None:
        cap = f" (cap {args.max_vram:g} GiB)" if args.max_vram else ""
        print(f"{'peak GPU memory':<28}{f['peak_gpu_gib']:10.2f} GiB{cap}")
    for kind, race in f["races"].items():
        print(f"{kind:<28}{race['won']:10d} of {race['raced']} races won (input shapes where it was the faster)")
    if f["tiles"] > 1:
        print(f"{'tiles at full size':<28}{f['tiles']:10d}")
    crop_w, crop_h = min(f["width"], 1920), min(f["height"], 1080)
    print(f"{'gradient vs fp32':<28}{f['gradient_cosine']:10.4f} cosine on {crop_w}x{crop_h}"
          + (f" ({len(quarter)} tiles: {f['gradient_cosine_tiled']:.4f})" if quarter else ""))
    if f["reference_s_per_frame"] is not None:
        print(f"{'eager fp32 reference':<28}{f['reference_s_per_frame']:10.3f} s/frame  "
              f"(renderer is {f['speedup']:.1f}x)")
    for size, found in f.get("peak_rss_gib", {}).items():
        if found is None:
            print(f"{'peak RSS, ' + size + ' frame':<28}{'failed':>10}  (the child process ended early: out of memory?)")
            continue
        print(f"{'peak RSS, ' + size + ' frame':<28}{found['peak']:10.2f} GiB  "
              f"({found['before']:.2f} GiB before the dream; CPU, {args.octaves} octaves, 1 iteration each)")
    if "profile" in f:
        print(f"\ncostliest operations in {PROFILED_STEPS} top-octave steps at {f['width']}x{f['height']} (totals):")
        print(f["profile"])


def main(argv=None) -> int:
    args = parse_args(argv)
    configure_runtime()  # timed as the command renders
    from ..session.devices import pick_device

    device = pick_device(args.device)
    width, height = (int(v) for v in args.size.lower().split("x"))
    spec = ZOO[args.model]
    layer = spec.resolve(args.layer or "parts")
    settings = DreamSettings(args.octaves, args.octave_scale, args.iterations, STEP, JITTER, SMOOTH)
    net = load_model(args.model, device, args.weights)
    options = {"precision": args.precision, "max_vram_gib": args.max_vram, "fast_layers": not args.no_fast_layers}
    engine = DreamEngine(net, device, **options)
    start = images.to_tensor(images.smooth_noise(width, height, 0), device)
    objective = layer_l2(layer)
    terms = {objective: 1.0}

    # ms per top-octave iteration: one octave at full size, `iterations` steps per call.
    top = DreamSettings(1, 1.0, args.iterations, STEP, JITTER, SMOOTH)
    generator = torch.Generator().manual_seed(0)
    iteration_ms = timed(lambda: engine.dream(start, terms, top, generator), 3, device) / args.iterations * 1e3
    flops = iteration_flops(net, objective, height, width)
    peak_rate, matmul_side = matmul_rate(device, engine.precision.dtype)
    reference_ms = None
    if not args.skip_reference:
        one = DreamSettings(1, 1.0, 1, STEP, JITTER, SMOOTH)
        with torch.enable_grad():
            reference_ms = timed(lambda: reference_dream(net, start, layer, one, generator), 3, device) * 1e3

    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        scene = bench_scene(args, width, height, layer, args.frames + 2, folder)
        plan = make_plan(scene, output=scene.output_path)
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        setup, seconds, finish = render_frames(scene, plan, net, device, options, folder, args.frames)
        peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None
        frame = F.interpolate(start, size=(plan.height, plan.width), mode="bilinear", align_corners=False)
        dream_only = timed(lambda: engine.dream(frame, terms, settings, generator), max(1, args.frames // 3), device)
        encode_rate = encoding_rate(frame, folder)
        reference = None
        if not args.skip_reference:
            reference = reference_frames(net, frame, layer, settings, device, folder, args.reference_frames)

    # How closely the renderer's gradient follows fp32, on at most a 1080p crop (fp32 must fit),
    # whole and in tiles of at most a quarter of its pixels each (margins included).
    crop = start[:, :, : min(height, 1080), : min(width, 1920)]
    crop_h, crop_w = crop.shape[2:]
    try:
        quarter = tile_grid(crop_h, crop_w, crop_h * crop_w // 4, spec.min_size)
    except ValueError:  # too small to split
        quarter = None
    with torch.enable_grad():
        exact = pixel_gradient(net, crop, objective, tile_grid(crop_h, crop_w, None))
        agreement = cosine(pixel_gradient(engine.net, crop, objective, tile_grid(crop_h, crop_w, None),
                                          engine.precision), exact)
        if quarter is not None:
            tiled = cosine(pixel_gradient(engine.net, crop, objective, quarter, engine.precision), exact)
    tile_pixels = engine.tile_pixels_for(objective, height, width)

    rate = flops / (iteration_ms / 1e3)
    sizes = octave_sizes(height, width, args.octaves, args.octave_scale, spec.min_size)
    figures = {
        "machine": platform.node(), "processor": platform.processor() or platform.machine(),
        "cpu_threads": torch.get_num_threads(),
        "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
        "python": platform.python_version(), "torch": torch.__version__, "cudnn": torch.backends.cudnn.version(),
        "model": args.model, "weights": args.weights, "layer": layer, "width": width, "height": height,
        "octaves": len(sizes), "octave_scale": args.octave_scale, "iterations": args.iterations,
        "device": str(device), "dtype": str(engine.precision.dtype).removeprefix("torch."),
        "engine": engine.describe(),
        "iteration_ms": iteration_ms, "reference_iteration_ms": reference_ms,
        "gflop": flops / 1e9, "achieved_gflops": rate / 1e9,
        "matmul_gflops": peak_rate / 1e9, "matmul_side": matmul_side, "share": rate / peak_rate,
        "setup_s": setup, "s_per_frame": seconds, "frames_per_s": 1 / seconds, "dream_s_per_frame": dream_only,
        "encode_s_per_frame": 1 / encode_rate, "finish_s": finish, "peak_gpu_gib": peak,
        "races": {kind: {"won": won, "raced": raced} for kind, (won, raced) in race_results(engine.net).items()},
        "tiles": len(tile_grid(height, width, tile_pixels, spec.min_size)) if tile_pixels is not None else 1,
        "gradient_cosine": agreement, "gradient_cosine_tiled": tiled if quarter is not None else None,
        "reference_s_per_frame": reference, "speedup": reference / seconds if reference is not None else None,
    }
    if args.memory:
        figures["peak_rss_gib"] = {size: (None if isinstance(found, int) else
                                          {"peak": found[0] / 2**30, "before": found[1] / 2**30})
                                   for size, found in frame_memories(args)}
    if args.profile:
        eager = DreamEngine(net, device, args.precision, args.max_vram, graphs=False,
                            fast_layers=not args.no_fast_layers)
        figures["profile"] = costliest_operations(eager, start, terms, device, args.profile)
    if args.json:
        print(json.dumps(figures))
    else:
        print_figures(figures, args, quarter)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
