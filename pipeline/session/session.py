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
from contextlib import ExitStack
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
from ..output.layout import clash_with_inputs, deliver_work_dir, deliveries_base, partial_path, sidecar_path, work_dir
from ..output.pieces import Pieces, remove
from ..output.sidecar import differences, sidecar_data, write_sidecar
from ..output.sinks import Audio, Sink, VideoSettings, sink_for
from ..output.verify import Damaged
from ..plan import Plan
from ..plan.deliver import DeliverableSpec, sound_target
from ..scene import Scene
from ..scene.formats import format_of
from .lock import OutputLock
from .checkpoint import CHECKPOINT, MARKER, Checkpoint, CheckpointError, clear, fingerprint, is_ours, make_work_dir
from .loop_seam import LoopSeam
from .deliver import DeliverableLook, Look, outlined
from .recipe import Dreamer
from .signals import StopRequest

log = logging.getLogger("dreamzoom.session")


@dataclass
class RenderResult:
    path: Path  # the output (with deliver: the first deliverable's)
    frames: int  # frames written to each output
    seconds: float
    device: str
    notes: tuple[str, ...] = ()  # what the viewer should know: text that was hard to read
    paths: tuple[Path, ...] = ()  # every output written, in the scene's order (deliver: one per deliverable)
    dreamed: int = 0  # frames dreamed by this run: once per timeline frame, however many outputs

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0


class RenderInterrupted(Exception):
    """A stop signal (Ctrl-C, SIGTERM, SIGHUP): what was rendered so far is kept
    as a playable partial video, and the checkpoint stays for --resume."""

    def __init__(self, partial: Path | None, frames: int, signum: int = signal.SIGINT,
                 partials: tuple[Path, ...] = ()):
        self.partial, self.frames, self.signum = partial, frames, signum
        self.partials = partials or ((partial,) if partial is not None else ())  # one per output (deliver)
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


def scene_sink(scene: Scene, plan: Plan, output: Path, frames: range,
               deliverable: DeliverableSpec | None = None) -> Sink:
    """The sink for `output`, with the scene's encoding, fades and sound (a loop's, looped too);
    `frames` are the video's frames as the viewer sees them. A deliverable's has its size and fade,
    and its preset's bitrate cap, sound rate, loudness and true peak (the scene's audio.loudness
    wins over the preset's)."""
    preset = deliverable.preset if deliverable is not None else None
    audio = None
    if scene.audio is not None and format_of(output).audio:  # a GIF or PNG deliverable is silent
        loudness, true_peak = sound_target(scene, preset)
        audio = Audio(scene.audio_path, scene.audio.fade_in, scene.audio.fade_out, loop=plan.loop / plan.fps,
                      loudness=loudness, true_peak=true_peak)
    width, height = deliverable.size if deliverable is not None else (plan.width, plan.height)
    fade = deliverable.fade if deliverable is not None else (scene.fade.fade_in, scene.fade.fade_out)
    video = VideoSettings(
        width, height, plan.fps, crf=scene.encode.crf, preset=scene.encode.preset,
        codec=scene.encode.codec or "h264", fade=fade,
        first_frame=frames.start, frame_count=len(frames), total_frames=plan.frame_count, audio=audio,
        reverse=plan.reverse, max_bitrate=preset.bitrate_for(plan.fps) if preset is not None else None,
        audio_rate=preset.audio_rate if preset is not None and audio is not None else None,
    )
    return sink_for(output, video)


@dataclass
class Delivery:
    """One output of the render: what it shows of each dream frame, its sink, and its pieces in the
    work folder (a deliverable's in a folder of their own, named in the checkpoint as `INDEX/piece_...`)."""

    output: Path
    look: Look
    sink: Sink
    folder: Path
    prefix: str = ""
    label: str = ""
    pieces: Pieces | None = None
    writer: BackgroundWriter | None = None

    def checkpoint_names(self) -> list[str]:
        return [self.prefix + name for name in self.pieces.finished]

    def from_checkpoint(self, names: list[str]) -> list[str]:
        if not self.prefix:
            return list(names)
        return [name.removeprefix(self.prefix) for name in names if name.startswith(self.prefix)]


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

    With `deliver:` (plan.deliverables) each frame is dreamed once on the canvas and every
    deliverable's crop goes to its own sink; they share one lock, one work folder and one
    checkpoint, and `output` is the first deliverable's.
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
        # With deliver: one lock, one work folder and one checkpoint for every deliverable (layout.py)
        self.outputs = [spec.output for spec in plan.deliverables] or [self.output]
        self.lock_key = deliveries_base(scene) if plan.deliverables else self.output
        self.work = deliver_work_dir(scene) if plan.deliverables else work_dir(self.output)
        self.dreamed = 0
        if plan.loop and len(self.frames) != plan.frame_count:
            raise ValueError("a loop's end is blended into its start, so it is rendered whole")
        self.seam = LoopSeam(self.work, plan.frame_count, plan.loop)
        self.timeline_stop = self.frames.stop + plan.loop  # a loop dreams past the video's end
        self.facts = render_facts(scene, plan, self.output, self.frames, checkpoint_every, precision, device)
        self.stamp = fingerprint(self.facts)
        self.resumed = False
        self.write_from = self.frames.start  # earlier frames are dreamed, not written
        self.deliveries: list[Delivery] = []
        self.closing: Future | None = None  # the piece being closed on the closer thread

    def run(self) -> RenderResult:
        began = time.perf_counter()
        # With deliver: the scene's lock and each deliverable's own, so a render of any one of its
        # files (another campaign's, or a single output) meets a lock
        locks = [OutputLock(self.lock_key)] + ([OutputLock(o) for o in self.outputs] if self.plan.deliverables else [])
        for lock in locks:
            lock.check_free()
        refused = self.refusal()  # before the lock, so a refused render leaves no lock file behind
        if refused:
            raise RenderRefused(refused)
        with ExitStack() as held:
            for lock in locks:
                held.enter_context(lock)
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
            clear(self.work)  # last: until every sidecar is written, --resume can place the outputs again
        notes = [f"{d.label}: {w}" if d.label else w for d in self.deliveries for w in d.look.texts.warnings()]
        return RenderResult(self.output, len(self.frames), seconds, str(self.device), tuple(notes),
                            tuple(self.outputs), self.dreamed)

    # ------------------------------------------------------------ open

    def refusal(self) -> str | None:
        """Why this render may not start as asked, naming the flag that allows it, if any."""
        for output in self.outputs:
            clash = clash_with_inputs(self.scene, output)
            if clash:
                return f"output {output}: {clash}"
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
            return (f"an interrupted render of {self.named()} is waiting in {self.work}: add --resume to continue it "
                    "or --overwrite to start again")
        if self.resume and checkpoint is not None and checkpoint.fingerprint != self.stamp and not self.overwrite:
            changed = ", ".join(differences(checkpoint.facts, self.facts)[:8]) or "made by another version"
            return (f"the checkpoint in {self.work} belongs to a different scene or settings (changed: {changed}); "
                    "add --overwrite to start again")
        # stopped while placing the outputs: those already in place are this render's own
        placing = checkpoint is not None and checkpoint.next_frame >= self.seam.video_frames_before(self.timeline_stop)
        return self.output_refusal(resuming=self.resume and checkpoint is not None, placing=self.resume and placing)

    def named(self) -> str:
        """The render in messages: its output, or every deliverable's."""
        return ", ".join(str(output) for output in self.outputs)

    def output_refusal(self, resuming: bool, placing: bool = False) -> str | None:
        """What is in the way of any output: the output itself (unless `placing`: resuming a render
        stopped while it renamed its finished outputs into place), a partial that is not ours, a PNG
        folder that holds files this render would not have written."""
        for output in self.outputs:
            refused = self.refusal_of(output, resuming, placing)
            if refused:
                return refused
        return None

    def refusal_of(self, output: Path, resuming: bool, placing: bool = False) -> str | None:
        foreign = foreign_files(output) if output.is_dir() else []
        if foreign:
            return (f"{output} holds files this render did not write ({', '.join(foreign[:3])}):"
                    " choose another output folder")
        if output.exists() and not self.overwrite and not placing:
            return f"{output} exists: add --overwrite to replace it"
        sidecar = sidecar_path(output)
        if sidecar.is_dir():
            return f"{sidecar} is a folder where the output's sidecar goes: move it away or choose another output"
        if sidecar.exists() and not output.exists() and not self.overwrite:
            return f"{sidecar} exists and is not this render's: add --overwrite to replace it"
        partial = partial_path(output)
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
        self.deliveries = self.make_deliveries()
        if checkpoint is not None:
            self.resume_from(checkpoint)
        else:
            make_work_dir(self.work)
            for delivery in self.deliveries:
                delivery.folder.mkdir(exist_ok=True)
                delivery.pieces = Pieces(delivery.folder, delivery.sink)
        # A finished piece is closed (ffmpeg drains its look-ahead) and checkpointed on a
        # thread while the loop dreams on; pieces close in order, one at a time.
        self.closer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="piece closer")
        self.bar = tqdm(total=self.timeline_stop, initial=self.dreamer.next_frame, unit="frame",
                        desc=self.scene.file.stem, disable=self.progress is not True, dynamic_ncols=True)
        self.stop.install()

    def make_deliveries(self) -> list[Delivery]:
        """The outputs: the whole frame, or each deliverable's crop with its pieces in a folder of its own."""
        if not self.plan.deliverables:
            return [Delivery(self.output, Look(self.plan, self.device),
                             scene_sink(self.scene, self.plan, self.output, self.shown), self.work)]
        return [Delivery(spec.output, DeliverableLook(self.plan, spec, self.device),
                         scene_sink(self.scene, self.plan, spec.output, self.shown, spec), self.work / str(spec.index),
                         f"{spec.index}/", spec.label) for spec in self.plan.deliverables]

    def resume_from(self, checkpoint: Checkpoint) -> None:
        """Continue where the checkpoint left off; a piece found damaged or missing (in any output) is
        made again by dreaming from frame 0 (the frames come out the same) and writing from that
        piece on, in every output."""
        own_folders = {d.folder.name for d in self.deliveries if d.folder != self.work}
        for delivery in self.deliveries:
            delivery.pieces = Pieces(delivery.folder, delivery.sink, delivery.from_checkpoint(checkpoint.pieces))
            if delivery.folder != self.work:
                delivery.folder.mkdir(exist_ok=True)
                delivery.pieces.remove_leftovers(keep=set())
        keep = {CHECKPOINT, MARKER} | self.seam.names() | own_folders
        keep |= {name for d in self.deliveries if d.folder == self.work for name in d.pieces.finished}
        self.remove_leftovers(keep)
        self.resumed = True
        try:
            for delivery in self.deliveries:
                delivery.pieces.verify(checkpoint.next_frame)
        except Damaged as damaged:
            first = None
            for delivery in self.deliveries:  # every output's pieces share their frames: all go from there
                if len(delivery.pieces.finished) > damaged.piece:
                    dropped = delivery.pieces.drop_from(damaged.piece)
                    first = dropped if first is None else min(first, dropped)
            self.write_from = first if first is not None else 0
            log.warning("%s: %s; dreaming again from frame 0 to make it anew", self.named(), damaged)
            return
        if not self.seam.has_kept(checkpoint.loop_state["next_frame"]):
            self.write_from = checkpoint.next_frame
            log.warning("%s: the loop's first frames are missing from %s; dreaming again from frame 0 to make "
                        "them anew", self.output, self.work)
            return
        self.dreamer.restore(checkpoint.loop_state)
        self.restore_texts(checkpoint.loop_state.get("text_contrast"))

    def remove_leftovers(self, keep: set[str]) -> None:
        """Delete what an interrupted render left in the work folder besides `keep`."""
        for name in set(p.name for p in self.work.iterdir()) - keep:
            remove(self.work / name)

    def texts_state(self) -> list:
        """Each output's words' contrast so far: one output's list as it always was, else one per output."""
        states = [d.look.texts.state() for d in self.deliveries]
        return states[0] if not self.plan.deliverables else states

    def restore_texts(self, state: list | None) -> None:
        states = [state] if not self.plan.deliverables else (state or [])
        for delivery, saved in zip(self.deliveries, states):
            delivery.look.texts.restore(saved)

    # ------------------------------------------------------------ per frame

    def render_frames(self) -> None:
        for spec, frame in self.dreamer.frames(self.timeline_stop):
            shown = self.seam.shown(spec.index, frame)
            if shown is not None and shown[0] >= self.frames.start:
                self.show(*shown)
            self.dreamed += 1
            self.bar.update()
            if callable(self.progress):
                self.progress(spec.index + 1, self.timeline_stop)
            written = self.seam.video_frames_before(spec.index + 1)
            boundary = (spec.index + 1) % self.checkpoint_every == 0 or spec.index + 1 == self.timeline_stop
            if boundary and (written > self.write_from or not self.deliveries[0].pieces.finished):
                self.checkpoint(written)  # not while dreaming again up to a piece made anew
            self.stop.check()

    def show(self, index: int, frame: torch.Tensor) -> None:
        """Timeline frame `index` as each output shows it: its crop (a deliverable's), overlays and
        words (on the video frame it becomes, counted backwards when reversed), then to its sink
        unless its piece is kept. Every frame of the range is measured for the words' contrast, kept
        pieces' frames too. `watch` sees the frame as the single output shows it, or the canvas with
        every deliverable's crop outlined."""
        video = self.plan.frame_count - 1 - index if self.plan.reverse else index
        for delivery in self.deliveries:
            shown = delivery.look.shown(index, video, frame)
            if index >= self.write_from:
                if delivery.writer is None:
                    delivery.writer = delivery.pieces.open(index)
                delivery.writer.write(shown)
        if index >= self.write_from and self.watch is not None:
            self.watch(video, outlined(frame, self.plan, index) if self.plan.deliverables else shown)

    def checkpoint(self, next_frame: int) -> None:
        """End the current piece (the video's frames end before `next_frame`); it is closed and the
        checkpoint saved on the closer thread."""
        self.wait_for_closer()
        state = {**self.dreamer.state(), "text_contrast": self.texts_state()}
        writers = [(delivery, delivery.writer) for delivery in self.deliveries]
        for delivery in self.deliveries:
            delivery.writer = None
        self.closing = self.closer.submit(self._close_pieces, writers, next_frame, state)

    def _close_pieces(self, writers: list[tuple[Delivery, BackgroundWriter | None]], next_frame: int,
                      state: dict) -> None:
        """Finish every output's piece, then save the one checkpoint that names them all."""
        for delivery, writer in writers:
            if writer is not None:
                delivery.pieces.finish(writer)
        names = [name for delivery in self.deliveries for name in delivery.checkpoint_names()]
        Checkpoint(self.stamp, next_frame, names, state, self.facts).save(self.work)

    def wait_for_closer(self) -> None:
        """Wait for the piece being closed; its errors surface here."""
        if self.closing is not None:
            pending, self.closing = self.closing, None
            pending.result()

    # ------------------------------------------------------------ the end

    def finish(self) -> None:
        """Join every output's pieces under a temporary name and verify it; only when all are whole,
        rename them into place (no output is left half-written under its own name)."""
        self.wait_for_closer()
        self.bar.close()
        joined = []
        for delivery in self.deliveries:
            temp = delivery.pieces.join_verified(partial_path(delivery.output), self.frames.stop, len(self.frames))
            joined.append((delivery.output, temp))
        for output, temp in joined:
            if output.is_dir():  # a PNG folder of an earlier render: only its frames (checked at open)
                shutil.rmtree(output)
            os.replace(temp, output)

    def interrupt(self, signum: int) -> RenderInterrupted:
        """Keep the frames so far as a playable partial video; the checkpoint stays for --resume."""
        self.bar.close()
        kept = []
        try:
            self.wait_for_closer()
            for delivery in self.deliveries:
                writer, delivery.writer = delivery.writer, None
                if delivery.pieces.finished or writer is not None:
                    kept.append(delivery.pieces.join(partial_path(delivery.output), unfinished=writer))
        except (EncodeError, OSError):
            kept = []  # interrupted mid-write: the checkpoint is what counts
        written = self.seam.video_frames_before(self.dreamer.next_frame)  # a loop's kept frames are not yet shown
        return RenderInterrupted(kept[0] if kept else None, max(0, written - self.frames.start), signum, tuple(kept))

    def abandon(self) -> None:
        """A failure: let the closer finish (the error being raised is the one to report), drop the open piece."""
        self.bar.close()
        if self.closing is not None:
            self.closing.exception()
        for delivery in self.deliveries:
            if delivery.writer is not None:
                delivery.writer.discard()

    def close(self) -> None:
        self.closer.shutdown()
        self.stop.uninstall()
        self.dreamer.close()

    def write_sidecar(self, seconds: float) -> None:
        """One sidecar per output; a deliverable's says which one it is and where its crop was."""
        for delivery in self.deliveries:
            spec = delivery.look.spec if isinstance(delivery.look, DeliverableLook) else None
            write_sidecar(self.scene, delivery.output, {
                "device": str(self.device),
                "engine": self.dreamer.engine.describe(),
                "preview": self.plan.preview,
                "size": [delivery.sink.video.width, delivery.sink.video.height],
                **({"deliverable": deliverable_record(self.plan, spec)} if spec is not None else {}),
                "frames": [self.shown.start, self.shown.stop - 1],
                "seconds": round(seconds, 2),
                "resumed": self.resumed,
                "inputs": self.facts["inputs"],  # what --resume compares a later run's input files with
                **({"text_contrast": delivery.look.texts.records()} if self.plan.texts else {}),
                **({"bpm_found": self.scene.tempo[0], "beat_offset": self.scene.tempo[1]}
                   if self.scene.bpm == "auto" else {}),
            })


def deliverable_record(plan: Plan, spec: DeliverableSpec) -> dict:
    """What a deliverable's sidecar says of it: which one, the canvas it was cut from and its crop's
    size (in the render's canvas pixels), so `check` can read its share of the canvas' motion."""
    return {"index": spec.index, "preset": spec.preset.name if spec.preset is not None else None,
            "canvas": [plan.width, plan.height], "crop": list(spec.crop),
            "focus": spec.focus.plain() if hasattr(spec.focus, "plain") else None,
            "resampled": spec.resampled}


def render(scene: Scene, plan: Plan, output: Path, device: torch.device, **options) -> RenderResult:
    """Render `plan` to `output` (see RenderSession for the options)."""
    return RenderSession(scene, plan, output, device, **options).run()
