"""The render session: the only stateful part of a render, in named steps.

open (fresh, or resumed from a checkpoint) -> for each frame: the recipe
(warp -> dream -> post) -> the sink -> a checkpoint at each piece boundary
-> finish (join, rename, sidecar) or interrupt (a playable partial, the
checkpoint kept). The network is loaded once; the current frame stays on
the device, and only the finished uint8 frame crosses to the host.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from tqdm import tqdm

from ..dream.engine import resolve_precision
from ..media.files import file_hash
from ..models.cache import network
from ..models.network import DreamNet
from ..output.encoder import EncodeError
from ..output.handoff import BackgroundWriter
from ..output.layout import clash_with_inputs, partial_path, sidecar_path, work_dir
from ..output.pieces import Pieces
from ..output.sidecar import differences, sidecar_data, write_sidecar
from ..output.sinks import Audio, Sink, VideoSettings, sink_for
from ..output.verify import Damaged
from ..plan import Plan
from ..scene import Scene
from .lock import OutputLock
from .checkpoint import CHECKPOINT, MARKER, Checkpoint, CheckpointError, clear, fingerprint, is_ours, make_work_dir
from .loop_seam import LoopSeam
from .recipe import Dreamer, Overlays
from .text import Texts
from .signals import StopRequest

log = logging.getLogger("dreamzoom.session")


@dataclass
class RenderResult:
    path: Path
    frames: int
    seconds: float
    device: str
    notes: tuple[str, ...] = ()  # what the viewer should know: text that was hard to read

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0


class RenderInterrupted(Exception):
    """A stop signal (Ctrl-C, SIGTERM, SIGHUP): what was rendered so far is kept
    as a playable partial video, and the checkpoint stays for --resume."""

    def __init__(self, partial: Path | None, frames: int, signum: int = signal.SIGINT):
        self.partial, self.frames, self.signum = partial, frames, signum
        super().__init__(f"interrupted after {frames} frames")


class RenderRefused(Exception):
    """The render would overwrite or discard something; the message says which flag allows it."""


def render_facts(scene: Scene, plan: Plan, output: Path, frames: range, every: int, precision: str,
                 device: torch.device) -> dict:
    """Everything that decides the pixels and the pieces: a checkpoint resumes only with the same."""
    return {
        "scene": sidecar_data(scene, output, {}),
        "inputs": {os.path.relpath(path, scene.file.parent): file_hash(path) for path in scene.input_files()},
        "size": [plan.width, plan.height], "preview": plan.preview, "frames": [frames.start, frames.stop],
        "every": every, "precision": str(resolve_precision(precision, device).dtype).removeprefix("torch."),
        "device": torch.device(device).type,
    }


def foreign_files(folder: Path) -> list[str]:
    """Names in a PNG-folder output that are not frames this output's render writes."""
    pattern = re.compile(re.escape(folder.name) + r"_\d{5,}\.png")
    return sorted(p.name for p in folder.iterdir() if not pattern.fullmatch(p.name))


def scene_sink(scene: Scene, plan: Plan, output: Path, frames: range) -> Sink:
    """The sink for `output`, with the scene's encoding, fades and sound (a loop's, looped too);
    `frames` are the video's frames as the viewer sees them."""
    audio = None if scene.audio is None else Audio(scene.audio_path, scene.audio.fade_in, scene.audio.fade_out,
                                                   loop=plan.loop / plan.fps, loudness=scene.audio.loudness,
                                                   true_peak=scene.audio.true_peak)
    video = VideoSettings(
        plan.width, plan.height, plan.fps, crf=scene.encode.crf, preset=scene.encode.preset,
        codec=scene.encode.codec or "h264", fade=(scene.fade.fade_in, scene.fade.fade_out),
        first_frame=frames.start, frame_count=len(frames), total_frames=plan.frame_count, audio=audio,
        reverse=plan.reverse,
    )
    return sink_for(output, video)


class RenderSession:
    """Render `plan` to `output` in pieces of `checkpoint_every` frames.

    `frames` writes only that part of the timeline; earlier frames are still
    dreamed (each frame grows from the one before) but not encoded. After each
    piece the loop's state is saved, so `resume=True` continues an interrupted
    render with identical frames. `net` reuses an already loaded network;
    precision and max_vram (GiB) go to the DreamEngine. `progress` is True (a
    progress bar), False, or a callable given (frames dreamed, frames to dream)
    after every frame; it may raise KeyboardInterrupt to stop the render.
    `watch`, if given, sees each video frame as it goes to the sink: (its index,
    the finished frame on the device); it must return at once (keep a reference,
    convert it elsewhere), since the loop waits for it.
    """

    def __init__(self, scene: Scene, plan: Plan, output: Path, device: torch.device, *,
                 progress: bool | Callable[[int, int], None] = True,
                 net: DreamNet | None = None, frames: range | None = None, resume: bool = False,
                 overwrite: bool = True, checkpoint_every: int = 50, precision: str = "auto",
                 max_vram: float | None = None, watch: Callable[[int, torch.Tensor], None] | None = None):
        self.watch = watch
        self.scene, self.plan, self.output, self.device = scene, plan, Path(output), device
        self.progress, self.net, self.resume, self.overwrite = progress, net, resume, overwrite
        self.shown = frames or range(plan.frame_count)  # the video's frames, as the viewer sees them
        # the timeline's frames they show: a reversed video's first frames are the dream's last
        self.frames = (range(plan.frame_count - self.shown.stop, plan.frame_count - self.shown.start)
                       if plan.reverse else self.shown)
        self.checkpoint_every, self.precision, self.max_vram = checkpoint_every, precision, max_vram
        self.work = work_dir(self.output)
        if plan.loop and len(self.frames) != plan.frame_count:
            raise ValueError("a loop's end is blended into its start, so it is rendered whole")
        self.seam = LoopSeam(self.work, plan.frame_count, plan.loop)
        self.timeline_stop = self.frames.stop + plan.loop  # a loop dreams past the video's end
        self.facts = render_facts(scene, plan, self.output, self.frames, checkpoint_every, precision, device)
        self.stamp = fingerprint(self.facts)
        self.resumed = False
        self.write_from = self.frames.start  # earlier frames are dreamed, not written
        self.writer: BackgroundWriter | None = None  # the piece being written
        self.closing: Future | None = None  # the piece being closed on the closer thread

    def run(self) -> RenderResult:
        began = time.perf_counter()
        lock = OutputLock(self.output)
        lock.check_free()
        refused = self.refusal()  # before the lock, so a refused render leaves no lock file behind
        if refused:
            raise RenderRefused(refused)
        with lock:
            self.open()
            try:
                self.render_frames()
                self.finish()
            except KeyboardInterrupt as stop:
                raise self.interrupt(getattr(stop, "signum", signal.SIGINT)) from None
            except BaseException:
                self.abandon()
                raise
            finally:
                self.close()
            seconds = time.perf_counter() - began
            self.write_sidecar(seconds)
        return RenderResult(self.output, len(self.frames), seconds, str(self.device), tuple(self.texts.warnings()))

    # ------------------------------------------------------------ open

    def refusal(self) -> str | None:
        """Why this render may not start as asked, naming the flag that allows it, if any."""
        clash = clash_with_inputs(self.scene, self.output)
        if clash:
            return f"output {self.output}: {clash}"
        if self.work.exists() and not is_ours(self.work):
            return f"{self.work} was not made by a render: move it away, then run again"
        if self.overwrite and not self.resume:  # starts afresh: the old checkpoint is never read
            return self.output_refusal(resuming=False)
        try:
            checkpoint = Checkpoint.load(self.work) if self.work.is_dir() else None
        except CheckpointError as error:
            if self.overwrite:  # --resume --overwrite: what cannot be resumed starts afresh
                return self.output_refusal(resuming=False)
            return f"{error}; add --overwrite to start again"
        if checkpoint is not None and not self.resume:
            return (f"an interrupted render of {self.output} is waiting in {self.work}: add --resume to continue it "
                    "or --overwrite to start again")
        if self.resume and checkpoint is not None and checkpoint.fingerprint != self.stamp and not self.overwrite:
            changed = ", ".join(differences(checkpoint.facts, self.facts)[:8]) or "made by another version"
            return (f"the checkpoint in {self.work} belongs to a different scene or settings (changed: {changed}); "
                    "add --overwrite to start again")
        return self.output_refusal(resuming=self.resume and checkpoint is not None)

    def output_refusal(self, resuming: bool) -> str | None:
        """What is in the way of the output: the output itself, a partial that is not ours, a PNG
        folder that holds files this render would not have written."""
        foreign = foreign_files(self.output) if self.output.is_dir() else []
        if foreign:
            return (f"{self.output} holds files this render did not write ({', '.join(foreign[:3])}):"
                    " choose another output folder")
        if self.output.exists() and not self.overwrite:
            return f"{self.output} exists: add --overwrite to replace it"
        sidecar = sidecar_path(self.output)
        if sidecar.is_dir():
            return f"{sidecar} is a folder where the output's sidecar goes: move it away or choose another output"
        if sidecar.exists() and not self.output.exists() and not self.overwrite:
            return f"{sidecar} exists and is not this render's: add --overwrite to replace it"
        partial = partial_path(self.output)
        if partial.exists() and not resuming and not self.work.exists() and not self.overwrite:
            return f"{partial} exists and is not this render's: add --overwrite to replace it"
        return None

    def checkpoint_to_resume(self) -> Checkpoint | None:
        """With --resume, the checkpoint of these very facts; with --overwrite as well, a damaged or
        different one is set aside and the render starts afresh (refusal() has refused the rest)."""
        if not self.resume or not self.work.is_dir():
            return None
        try:
            checkpoint = Checkpoint.load(self.work)
        except CheckpointError:
            if self.overwrite:
                return None
            raise
        if checkpoint is not None and checkpoint.fingerprint != self.stamp and self.overwrite:
            return None
        return checkpoint

    def open(self) -> None:
        """Check again, under the lock, what may be replaced; load the network; start fresh or
        from the checkpoint."""
        refused = self.refusal()
        if refused:
            raise RenderRefused(refused)
        checkpoint = self.checkpoint_to_resume()
        net = self.net or network(self.plan.model, self.device, self.plan.weights, seed=self.plan.seed)
        self.stop = StopRequest()
        self.dreamer = Dreamer(self.plan, net, self.device, precision=self.precision, max_vram_gib=self.max_vram,
                               on_step=self.stop.check_mid_frame)  # a long frame does not hold up a stop
        self.overlays = Overlays(self.plan, self.device)
        self.texts = Texts(self.plan, self.device)
        sink = scene_sink(self.scene, self.plan, self.output, self.shown)
        if checkpoint is not None:
            self.resume_from(checkpoint, sink)
        else:
            make_work_dir(self.work)
            self.pieces = Pieces(self.work, sink)
        # A finished piece is closed (ffmpeg drains its look-ahead) and checkpointed on a
        # thread while the loop dreams on; pieces close in order, one at a time.
        self.closer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="piece closer")
        self.bar = tqdm(total=self.timeline_stop, initial=self.dreamer.next_frame, unit="frame",
                        desc=self.scene.file.stem, disable=self.progress is not True, dynamic_ncols=True)
        self.stop.install()

    def resume_from(self, checkpoint: Checkpoint, sink: Sink) -> None:
        """Continue where the checkpoint left off; a piece found damaged or missing is made again by
        dreaming from frame 0 (the frames come out the same) and writing from that piece on."""
        self.pieces = Pieces(self.work, sink, checkpoint.pieces)
        self.pieces.remove_leftovers(keep={CHECKPOINT, MARKER} | self.seam.names())
        self.resumed = True
        try:
            self.pieces.verify(checkpoint.next_frame)
        except Damaged as damaged:
            self.write_from = self.pieces.drop_from(damaged.piece)
            log.warning("%s: %s; dreaming again from frame 0 to make it anew", self.output, damaged)
            return
        if not self.seam.has_kept(checkpoint.loop_state["next_frame"]):
            self.write_from = checkpoint.next_frame
            log.warning("%s: the loop's first frames are missing from %s; dreaming again from frame 0 to make "
                        "them anew", self.output, self.work)
            return
        self.dreamer.restore(checkpoint.loop_state)
        self.texts.restore(checkpoint.loop_state.get("text_contrast"))

    # ------------------------------------------------------------ per frame

    def render_frames(self) -> None:
        for spec, frame in self.dreamer.frames(self.timeline_stop):
            shown = self.seam.shown(spec.index, frame)
            if shown is not None and shown[0] >= self.frames.start:
                self.show(*shown)
            self.bar.update()
            if callable(self.progress):
                self.progress(spec.index + 1, self.timeline_stop)
            written = self.seam.video_frames_before(spec.index + 1)
            boundary = (spec.index + 1) % self.checkpoint_every == 0 or spec.index + 1 == self.timeline_stop
            if boundary and (written > self.write_from or not self.pieces.finished):
                self.checkpoint(written)  # not while dreaming again up to a piece made anew
            self.stop.check()

    def show(self, index: int, frame: torch.Tensor) -> None:
        """Timeline frame `index` as the viewer sees it: overlays and words (on the video frame it
        becomes, counted backwards when reversed), then to the sink unless its piece is kept. Every
        frame of the range is measured for the words' contrast, kept pieces' frames too."""
        video = self.plan.frame_count - 1 - index if self.plan.reverse else index
        frame = self.texts.over(video, self.overlays.over(video, frame), video + self.plan.loop)
        if index >= self.write_from:
            self.to_sink(index, video, frame)

    def to_sink(self, index: int, video: int, frame: torch.Tensor) -> None:
        if self.writer is None:
            self.writer = self.pieces.open(index)
        self.writer.write(frame)
        if self.watch is not None:
            self.watch(video, frame)

    def checkpoint(self, next_frame: int) -> None:
        """End the current piece (the video's frames end before `next_frame`); it is closed and the
        checkpoint saved on the closer thread."""
        self.wait_for_closer()
        state = {**self.dreamer.state(), "text_contrast": self.texts.state()}
        self.closing = self.closer.submit(self._close_piece, self.writer, next_frame, state)
        self.writer = None

    def _close_piece(self, writer: BackgroundWriter | None, next_frame: int, state: dict) -> None:
        if writer is not None:
            self.pieces.finish(writer)
        Checkpoint(self.stamp, next_frame, self.pieces.finished, state, self.facts).save(self.work)

    def wait_for_closer(self) -> None:
        """Wait for the piece being closed; its errors surface here."""
        if self.closing is not None:
            pending, self.closing = self.closing, None
            pending.result()

    # ------------------------------------------------------------ the end

    def finish(self) -> None:
        """Join every piece under a temporary name, then rename it into place."""
        self.wait_for_closer()
        self.bar.close()
        temp = self.pieces.join_verified(partial_path(self.output), self.frames.stop, len(self.frames))
        if self.output.is_dir():  # a PNG folder of an earlier render: only its frames (checked at open)
            shutil.rmtree(self.output)
        os.replace(temp, self.output)
        clear(self.work)

    def interrupt(self, signum: int) -> RenderInterrupted:
        """Keep the frames so far as a playable partial video; the checkpoint stays for --resume."""
        self.bar.close()
        kept = None
        try:
            self.wait_for_closer()
            writer, self.writer = self.writer, None
            if self.pieces.finished or writer is not None:
                kept = self.pieces.join(partial_path(self.output), unfinished=writer)
        except (EncodeError, OSError):
            kept = None  # interrupted mid-write: the checkpoint is what counts
        written = self.seam.video_frames_before(self.dreamer.next_frame)  # a loop's kept frames are not yet shown
        return RenderInterrupted(kept, max(0, written - self.frames.start), signum)

    def abandon(self) -> None:
        """A failure: let the closer finish (the error being raised is the one to report), drop the open piece."""
        self.bar.close()
        if self.closing is not None:
            self.closing.exception()
        if self.writer is not None:
            self.writer.discard()

    def close(self) -> None:
        self.closer.shutdown()
        self.stop.uninstall()
        self.dreamer.close()

    def write_sidecar(self, seconds: float) -> None:
        write_sidecar(self.scene, self.output, {
            "device": str(self.device),
            "engine": self.dreamer.engine.describe(),
            "preview": self.plan.preview,
            "size": [self.plan.width, self.plan.height],
            "frames": [self.shown.start, self.shown.stop - 1],
            "seconds": round(seconds, 2),
            "resumed": self.resumed,
            "inputs": self.facts["inputs"],  # what --resume compares a later run's input files with
            **({"text_contrast": self.texts.records()} if self.plan.texts else {}),
            **({"bpm_found": self.scene.tempo[0], "beat_offset": self.scene.tempo[1]}
               if self.scene.bpm == "auto" else {}),
        })


def render(scene: Scene, plan: Plan, output: Path, device: torch.device, **options) -> RenderResult:
    """Render `plan` to `output` (see RenderSession for the options)."""
    return RenderSession(scene, plan, output, device, **options).run()
