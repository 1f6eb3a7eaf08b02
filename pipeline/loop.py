"""The frame loop: the only stateful part of a render. It holds no math of its own.

frame 0 is the start image (dreamed if the scene asks); frame n is
sharpen(color(dream(cut(motion(frame n-1))))). The network is built once;
the current frame stays on the device, and only the finished uint8 frame
crosses to the host.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import torch
from tqdm import tqdm

from . import images
from .checkpoint import CHECKPOINT, Checkpoint, clear, fingerprint, sync, work_dir
from .color import keep_chroma, lab_stats, match_colors
from .encode import Audio, EncodeError, VideoWriter, join, partial_path
from .engine import DreamEngine
from .formats import chunk_suffix
from .handoff import BackgroundWriter
from .models import DreamNet, load_model
from .motion import warp
from .objectives import Objective, channel_l2, class_logit, guide, layer_l2
from .plan import FrameSpec, Plan
from .post import unsharp_mask
from .scene import Scene
from .sidecar import sidecar_data, write_sidecar


@dataclass
class RenderResult:
    path: Path
    frames: int
    seconds: float
    device: str

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0


class RenderInterrupted(Exception):
    """Ctrl-C: what was rendered so far is kept as a playable partial video,
    and the checkpoint stays for --resume."""

    def __init__(self, partial: Path | None, frames: int):
        self.partial, self.frames = partial, frames
        super().__init__(f"interrupted after {frames} frames")


class Dreamer:
    """The loop's state between frames, and the step from one frame to the next.

    `state()` and `restore()` let a checkpoint carry a render across processes
    with bit-identical results on the CPU.
    """

    def __init__(self, scene: Scene, plan: Plan, net: DreamNet, device: torch.device,
                 engine: DreamEngine | None = None):
        self.scene, self.plan, self.net, self.device = scene, plan, net, device
        self.engine = engine or DreamEngine(net, device)
        self.generator = torch.Generator().manual_seed(scene.seed)
        self.objectives: dict[tuple, Objective] = {}
        self.guide_features: dict[tuple, torch.Tensor] = {}
        self.images: dict[str, torch.Tensor] = {}
        self.frame = self.image_for(scene.start)
        self.color_reference = lab_stats(self.frame) if scene.color.reference == "start" else None
        self.next_frame = 0

    def image_for(self, start: str) -> torch.Tensor:
        if start not in self.images:
            path = self.scene.resolve_image(start)
            pixels = images.start_frame(start, path, self.plan.width, self.plan.height, self.scene.seed)
            self.images[start] = images.to_tensor(pixels, self.device)
        return self.images[start]

    def term_objective(self, term) -> Objective:
        """One term's objective, built once: the engine recognises its captured dreams by them."""
        if term not in self.objectives:
            self.objectives[term] = self._build_term(term)
        return self.objectives[term]

    def _build_term(self, term) -> Objective:
        kind, *rest = term
        if kind == "layer":
            return layer_l2(rest[0])
        if kind == "channel":
            return channel_l2(rest[0], rest[1])
        if kind == "class":
            return class_logit(rest[0])
        image, layer = rest
        if (image, layer) not in self.guide_features:
            with torch.no_grad():
                acts = self.net(self.image_for(image), [layer])[layer]
            self.guide_features[image, layer] = acts.mean(dim=(0, 2, 3))
        return guide(layer, self.guide_features[image, layer])

    def weighted_terms(self, terms: dict) -> list[tuple[Objective, float]]:
        return [(self.term_objective(t), w) for t, w in sorted(terms.items(), key=lambda item: repr(item[0]))]

    def step(self, spec: FrameSpec) -> torch.Tensor:
        """Make frame `spec.index` from the current one."""
        frame = self.frame
        if spec.index > 0:
            m = spec.motion
            frame = warp(frame, m.zoom, m.rotate, m.translate, m.resample)
        if spec.cut is not None:
            start, weight = spec.cut
            frame = torch.lerp(frame, self.image_for(start), weight)
        undreamed = frame
        if spec.index > 0 or self.scene.dream_start:
            frame = self.engine.dream(frame, self.weighted_terms(spec.terms), spec.dream, self.generator)
        if self.scene.color.mode == "luma":
            frame = keep_chroma(frame, undreamed, spec.color_strength)
        else:
            if self.color_reference is None:
                self.color_reference = lab_stats(frame)
            frame = match_colors(frame, self.color_reference, spec.color_strength)
        amount, radius = spec.sharpen
        self.frame = unsharp_mask(frame, amount, radius)
        self.next_frame = spec.index + 1
        return self.frame

    def frames(self, stop: int | None = None) -> Iterator[tuple[FrameSpec, torch.Tensor]]:
        """Yields (spec, frame) from the next frame up to `stop`; frames are (1, 3, H, W) on the device."""
        for spec in self.plan.frames[self.next_frame : stop]:
            yield spec, self.step(spec)

    def state(self) -> dict:
        reference = None if self.color_reference is None else [t.cpu() for t in self.color_reference]
        return {"frame": self.frame.cpu(), "rng": self.generator.get_state(), "color_reference": reference,
                "next_frame": self.next_frame}

    def restore(self, state: dict) -> None:
        self.frame = state["frame"].to(self.device)
        self.generator.set_state(state["rng"])
        reference = state["color_reference"]
        self.color_reference = None if reference is None else tuple(t.to(self.device) for t in reference)
        self.next_frame = state["next_frame"]


def frames_of(
    scene: Scene, plan: Plan, net: DreamNet, device: torch.device, stop: int | None = None
) -> Iterator[tuple[FrameSpec, torch.Tensor]]:
    """Dream the timeline from frame 0: yields (spec, frame) for frames 0..stop-1."""
    return Dreamer(scene, plan, net, device).frames(stop)


class StopRequest:
    """The first Ctrl-C asks the loop to stop at the next frame boundary, where
    nothing is half-written; a second one interrupts at once."""

    def __init__(self):
        self.requested = False
        self.previous = None

    def install(self) -> None:
        if threading.current_thread() is threading.main_thread():  # signals reach only the main thread
            self.previous = signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("\nStopping after this frame (Ctrl-C again to stop at once)...", file=sys.stderr)

    def uninstall(self) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)

    def check(self) -> None:
        if self.requested:
            raise KeyboardInterrupt


class RenderRefused(Exception):
    """The render would overwrite or discard something; the message says which flag allows it."""


def render(
    scene: Scene,
    plan: Plan,
    output: Path,
    device: torch.device,
    progress: bool = True,
    net: DreamNet | None = None,
    frames: range | None = None,
    resume: bool = False,
    overwrite: bool = True,
    checkpoint_every: int = 50,
    precision: str = "auto",
    max_vram: float | None = None,
) -> RenderResult:
    """Render `plan` to `output` in pieces of `checkpoint_every` frames.

    `frames` writes only that part of the timeline; earlier frames are still
    dreamed (each frame grows from the one before) but not encoded. After each
    piece the loop's state is saved, so `resume=True` continues an interrupted
    render with identical frames. `net` reuses an already loaded network.
    precision and max_vram (GiB) go to the DreamEngine.
    """
    frames = frames or range(plan.frame_count)
    began = time.perf_counter()
    work = work_dir(output)
    stamp = fingerprint(
        sidecar_data(scene, output, {}),
        {"size": [plan.width, plan.height], "preview": plan.preview, "frames": [frames.start, frames.stop],
         "every": checkpoint_every},
    )
    checkpoint = Checkpoint.load(work) if work.is_dir() else None
    if checkpoint is not None and not resume and not overwrite:
        raise RenderRefused(f"an interrupted render of {output} is waiting in {work}: add --resume to continue it "
                            "or --overwrite to start again")
    if resume and checkpoint is not None and checkpoint.fingerprint != stamp:
        raise RenderRefused(f"the checkpoint in {work} belongs to a different scene or settings; "
                            "add --overwrite to start again")
    if output.exists() and not overwrite:
        raise RenderRefused(f"{output} exists: add --overwrite to replace it")
    if net is None:
        net = load_model(scene.model, device, scene.weights_source)
    dreamer = Dreamer(scene, plan, net, device, DreamEngine(net, device, precision, max_vram))
    if resume and checkpoint is not None:
        dreamer.restore(checkpoint.loop_state)
        pieces = checkpoint.pieces
        for leftover in set(p.name for p in work.iterdir()) - set(pieces) - {CHECKPOINT}:
            path = work / leftover
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    else:
        clear(work)
        work.mkdir(parents=True)
        pieces = []

    suffix = chunk_suffix(output)
    writer: BackgroundWriter | None = None

    def open_piece(first: int) -> BackgroundWriter:
        return BackgroundWriter(VideoWriter(
            work / f"piece_{first:06d}{suffix}",
            plan.width,
            plan.height,
            plan.fps,
            crf=scene.encode.crf,
            preset=scene.encode.preset,
            codec=scene.encode.codec or "h264",
            frame_count=len(frames),
            fade=(scene.fade.fade_in, scene.fade.fade_out),
            first_frame=first,
            total_frames=plan.frame_count,
            png_name=output.name,
        ))

    def publish(target: Path) -> Path:
        audio = None
        if scene.audio is not None:
            audio = Audio(scene.audio_path, scene.audio.fade_in, scene.audio.fade_out)
        return join(
            [work / name for name in pieces], target, output, plan.fps, scene.encode.codec or "h264",
            scene.encode.crf, audio, (frames.start, len(frames), plan.frame_count),
        )

    # A finished piece is closed (ffmpeg drains its look-ahead) and checkpointed on a
    # thread while the loop dreams on; pieces close in order, one at a time.
    closer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="piece closer")
    closing: Future | None = None

    def close_piece(piece: BackgroundWriter | None, next_frame: int, state: dict) -> None:
        if piece is not None:
            finished = piece.finish()
            sync(finished)
            pieces.append(finished.name)
        Checkpoint(stamp, next_frame, pieces, state).save(work)

    def closed() -> None:
        """Wait for the piece being closed; its errors surface here."""
        nonlocal closing
        if closing is not None:
            pending, closing = closing, None
            pending.result()

    bar = tqdm(
        total=frames.stop,
        initial=dreamer.next_frame,
        unit="frame",
        desc=scene.file.stem,
        disable=not progress,
        dynamic_ncols=True,
    )
    stop = StopRequest()
    try:
        stop.install()
        for spec, frame in dreamer.frames(frames.stop):
            if spec.index >= frames.start:
                if writer is None:
                    writer = open_piece(spec.index)
                writer.write(frame)
            bar.update()
            boundary = (spec.index + 1) % checkpoint_every == 0 or spec.index + 1 == frames.stop
            if boundary:
                closed()
                closing = closer.submit(close_piece, writer, spec.index + 1, dreamer.state())
                writer = None
            stop.check()
        closed()
        bar.close()
        temp = partial_path(output)
        if temp.is_dir():
            shutil.rmtree(temp)
        publish(temp)
        if output.is_dir():
            shutil.rmtree(output)
        os.replace(temp, output)
        clear(work)
    except KeyboardInterrupt:
        bar.close()
        kept = None
        try:
            closed()
            if writer is not None:
                writer.finish()  # the frames so far, playable, but not a finished piece
                pieces = pieces + [writer.path.name]
            if pieces:
                kept = publish(partial_path(output))
        except (EncodeError, OSError):
            kept = None  # interrupted mid-write: the checkpoint is what counts
        raise RenderInterrupted(kept, max(0, dreamer.next_frame - frames.start)) from None
    except BaseException:
        bar.close()
        if closing is not None:
            closing.exception()  # let it finish; the error being raised is the one to report
        if writer is not None:
            writer.discard()
        raise
    finally:
        closer.shutdown()
        stop.uninstall()
    seconds = time.perf_counter() - began
    write_sidecar(
        scene,
        output,
        {
            "device": str(device),
            "engine": dreamer.engine.describe(),
            "preview": plan.preview,
            "size": [plan.width, plan.height],
            "frames": [frames.start, frames.stop - 1],
            "seconds": round(seconds, 2),
            "resumed": bool(resume and checkpoint is not None),
        },
    )
    return RenderResult(output, len(frames), seconds, str(device))
