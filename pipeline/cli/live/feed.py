"""What one scene's render tells the live page.

The render loop only stores (a count, a time, a reference to the frame); frames/s, the
segment and the JPEG are worked out when a page asks, on the server's threads.
"""

from __future__ import annotations

import contextlib
import io
import threading
import time
from collections import deque
from pathlib import Path

WINDOW = 20  # progress calls that frames/s is measured over
JPEG_QUALITY = 85
STATES = ("waiting", "rendering", "done", "interrupted", "failed")


def state_of(code: int) -> str:
    """A scene's or a run's state from its exit code: a stop signal's code (128 + its number) is an interruption."""
    return "done" if code == 0 else "interrupted" if code > 128 else "failed"


def timeline_of(scene) -> list[dict]:
    """The scene's segments for the page: first and last frame, and what each dreams in the scene's words."""
    from ...plan import describe_terms, segment_terms

    terms = segment_terms(scene)
    return [{"first": s.frames[0], "last": s.frames[1],
             "label": ", ".join(s.layers) if s.layers else describe_terms(terms[i])}
            for i, s in enumerate(scene.segments)]


def host_pixels(frame):
    """A CPU frame (1, 3, H, W) in [0, 1] -> (H, W, 3) uint8, the same as image.pixels.to_pixels, but in
    numpy: torch's ops would start a second team of worker threads beside the render's, and on a
    busy CPU that slows both (55 ms instead of 0.5 ms for 320x240 on 2 loaded cores)."""
    import numpy as np

    return np.rint(frame.detach().numpy()[0].transpose(1, 2, 0) * 255.0).clip(0, 255).astype(np.uint8)


def encode_jpeg(pixels) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


class FrameHolder:
    """The latest video frame, handed over without making the render wait.

    On the CPU the loop leaves a reference, converted when a page asks. On a GPU no other
    thread may touch the device (the render may be capturing CUDA graphs), so once a page
    has asked, the loop starts a non-blocking copy of the next frame into one pinned buffer,
    as the video writer does, and the page's thread waits for that copy, not for the loop.
    The buffer is copied into again only after a page has read it (`wanted`), and it and its
    event are made and kept by the render's thread, so no other thread frees CUDA memory.
    """

    def __init__(self):
        self.latest = None  # (video frame index, tensor, CUDA event or None)
        self.wanted = True  # a GPU frame is copied only when a page has read the last copy
        self.host = self.event = None  # the pinned buffer and its event, on a GPU
        self.cache: tuple[int, bytes] | None = None
        self.lock = threading.Lock()  # among the page's threads only

    @property
    def ready(self) -> int | None:
        """The index of the frame `jpeg()` gives now."""
        latest = self.latest
        return None if latest is None else latest[0]

    def put(self, index: int, frame) -> None:
        """The session's `watch`: returns at once."""
        if not frame.is_cuda:
            self.latest = (index, frame, None)
        elif self.wanted:
            self.wanted = False
            try:
                self.host, self.event = _copy_to_host(frame, self.host, self.event)
                self.latest = (index, self.host, self.event)
            except Exception:  # no pinned memory, say: the page goes without this frame, the render on
                self.wanted = True

    def jpeg(self) -> tuple[int, bytes] | None:
        """(index, JPEG) of the latest frame, encoded once per frame, or None before the first."""
        with self.lock:
            latest = self.latest
            if latest is not None and (self.cache is None or self.cache[0] != latest[0]):
                index, tensor, event = latest
                if event is None:
                    pixels = host_pixels(tensor)
                else:
                    event.synchronize()
                    pixels = tensor.numpy()
                self.cache = (index, encode_jpeg(pixels))
            self.wanted = True  # read: the next GPU frame may be copied into the buffer
            return self.cache


def _copy_to_host(frame, host, event):
    """Start copying a GPU frame's uint8 pixels into the pinned buffer `host` (made on the first
    call): (the buffer, the event recorded after the copy)."""
    import torch

    from ...image.pixels import device_pixels

    pixels = device_pixels(frame)
    if host is None or host.shape != pixels.shape:
        host = torch.empty(pixels.shape, dtype=torch.uint8, pin_memory=True)
        event = torch.cuda.Event()
    host.copy_(pixels, non_blocking=True)
    event.record(torch.cuda.current_stream(frame.device))
    return host, event


class Feed:
    """One scene as the page sees it, fed by its render in this process."""

    def __init__(self, name: str):
        self.name = name
        self.state = "waiting"
        self.count = (0, 0)  # (frames dreamed, frames to dream)
        self.marks: deque = deque(maxlen=WINDOW)  # (time, frames dreamed)
        self.frames = FrameHolder()
        self.timeline: list[dict] = []
        self.plan = None
        self.storyboard: Path | None = None
        self.segment_memo = (None, None)

    def started(self, scene, plan, frames: range | None, output: Path) -> None:
        """The render of `plan` begins (frames: the part written; None for a storyboard)."""
        from ...output.sheets import storyboard_path

        self.timeline, self.plan = timeline_of(scene), plan
        self.storyboard = storyboard_path(output)
        self.count = (0, frames.stop + plan.loop if frames is not None else 0)  # a loop dreams past the end
        self.state = "rendering"

    def expect(self, frames: int) -> None:
        """A scene of a batch, not begun: its frames count toward the run's total and ETA."""
        if self.state == "waiting":
            self.count = (0, frames)

    def ended(self, code: int) -> None:
        if self.state in ("waiting", "rendering"):
            self.state = state_of(code)

    def progress(self, done: int, total: int) -> None:
        """The session's `progress`: returns at once."""
        self.count = (done, total)
        self.marks.append((time.monotonic(), done))

    @contextlib.contextmanager
    def hooks(self, bar: bool):
        """The session's progress and watch callables; with `bar`, a terminal progress bar too (the
        session draws its own only without a callable), closed before the render's last words."""
        if not bar:
            yield {"progress": self.progress, "watch": self.frames.put}
            return
        from tqdm import tqdm

        shown = None

        def progress(done: int, total: int) -> None:
            nonlocal shown
            self.progress(done, total)
            if shown is None:
                shown = tqdm(total=total, initial=done - 1, unit="frame", desc=Path(self.name).stem,
                             dynamic_ncols=True)
            shown.update(done - shown.n)

        try:
            yield {"progress": progress, "watch": self.frames.put}
        finally:
            if shown is not None:
                shown.close()

    def fps(self) -> float | None:
        marks = list(self.marks)
        if len(marks) < 2 or marks[-1][0] <= marks[0][0]:
            return None
        return (marks[-1][1] - marks[0][1]) / (marks[-1][0] - marks[0][0])

    def segment(self, done: int) -> int | None:
        """The segment of the last frame dreamed (the plan knows it), worked out once per frame."""
        if self.plan is None or not self.timeline:
            return None
        if self.segment_memo[0] != done:
            self.segment_memo = (done, self.plan.frames[max(0, done - 1)].segment)
        return self.segment_memo[1]

    def snapshot(self) -> dict:
        done, total = self.count
        fps = self.fps()
        if self.state == "done":
            eta = 0.0
        elif self.state == "rendering" and fps:
            eta = max(0.0, (total - done) / fps)
        else:
            eta = None
        return {"scene": self.name, "state": self.state, "frame": done, "frames": total,
                "fps": None if fps is None else round(fps, 3), "eta_s": None if eta is None else round(eta, 1),
                "segment": self.segment(done), "shown": self.frames.ready, "timeline": self.timeline,
                "storyboard": self.storyboard is not None and self.storyboard.is_file(),
                **({"deliverables": self.deliverables()} if self.plan is not None and self.plan.deliverables else {})}

    def deliverables(self) -> list[dict]:
        """deliver: each deliverable as its outline on the canvas frame shows it (label, colour)."""
        from ...plan.deliver import OUTLINE_COLORS

        return [{"label": spec.label, "output": spec.output.name, "size": list(spec.size),
                 "color": "#%02x%02x%02x" % OUTLINE_COLORS[spec.index % len(OUTLINE_COLORS)]}
                for spec in self.plan.deliverables]

    def jpeg(self) -> tuple[int, bytes] | None:
        return self.frames.jpeg()

    def storyboard_file(self) -> Path | None:
        return self.storyboard if self.storyboard is not None and self.storyboard.is_file() else None
