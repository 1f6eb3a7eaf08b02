"""The frames of the clips a render dreams over, streamed: each clip is decoded by ffmpeg straight
to the plan's size and frame rate (cover-fit like images, resampled by the frames' times, so a
variable frame rate comes out constant) and read one frame at a time, never whole. The optical
flow between consecutive frames is measured on a worker thread one frame ahead of the dream.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ..image.flow import flows_between
from ..media import ffmpeg
from ..plan.frames import Footage
from ..scene.clips import ClipError


class ClipFrames:
    """One clip's frames at (width, height) and `fps`, read in order from ffmpeg's pipe. Asking for
    an earlier frame starts again from the first (a loop, a resume); past the clip's last frame
    the last one is given (the plan's count and ffmpeg's may differ by a frame at the very end); a clip
    that ends sooner than that is damaged, a ClipError."""

    def __init__(self, path: Path, width: int, height: int, fps: float):
        self.path, self.width, self.height, self.fps = Path(path), width, height, fps
        self.reader: ffmpeg.FrameReader | None = None
        self.index = -1  # the frame in self.current
        self.current: np.ndarray | None = None
        self.ended = False

    def _open(self) -> None:
        self.close()
        scale = (f"fps={self.fps!r},scale={self.width}:{self.height}:force_original_aspect_ratio=increase:"
                 f"flags=lanczos,crop={self.width}:{self.height},setsar=1")
        self.reader = ffmpeg.FrameReader(self.path, (self.width, self.height), scale)
        self.index, self.current, self.ended = -1, None, False

    def frame(self, k: int) -> np.ndarray:
        """Frame k, (H, W, 3) uint8."""
        if self.reader is None or k < self.index:
            self._open()
        while self.index < k and not self.ended:
            frame = self.reader.read()
            if frame is None:
                self.ended = True
                break
            self.current = frame
            self.index += 1
        if self.current is None or k > self.index + 1:  # more than the last frame's rounding short
            raise ClipError(f"clip '{self.path.name}' ended at frame {self.index + 1} while frame {k + 1} was due: "
                            "it is damaged or changed since the render began")
        return self.current

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()
            self.reader = None


class FootageFeed:
    """Clip frames and the flow from the frame before, for the Footage of the plan's frames; the
    next frame's are made on a worker thread while the current one dreams."""

    def __init__(self, width: int, height: int, fps: float):
        self.width, self.height, self.fps = width, height, fps
        self.clips: dict[Path, ClipFrames] = {}
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="footage")
        self.pending: dict[Footage, Future] = {}

    def _clip(self, path: Path) -> ClipFrames:
        if path not in self.clips:
            self.clips[path] = ClipFrames(path, self.width, self.height, self.fps)
        return self.clips[path]

    def _make(self, footage: Footage) -> tuple[np.ndarray, np.ndarray | None]:
        clip = self._clip(footage.clip)
        if not footage.carries:
            return clip.frame(footage.frame).copy(), None
        if footage.previous == footage.frame:  # a held last frame: nothing moves
            current = clip.frame(footage.frame).copy()
            return current, np.zeros((2, self.height, self.width, 2), np.float32)
        previous = clip.frame(footage.previous).copy()
        current = clip.frame(footage.frame).copy()
        return current, flows_between(previous, current)

    def prefetch(self, footage: Footage | None) -> None:
        """Start making `footage`'s frame and flow. Asked in the order the frames play (the clip is
        read forward), the next frame's are made while the current one dreams."""
        if footage is not None and footage not in self.pending:
            self.pending[footage] = self.worker.submit(self._make, footage)

    def get(self, footage: Footage) -> tuple[np.ndarray, np.ndarray | None]:
        """(the clip frame (H, W, 3) uint8, flows_between() from the frame before or None)."""
        self.prefetch(footage)
        return self.pending.pop(footage).result()

    def close(self) -> None:
        self.worker.shutdown(wait=True, cancel_futures=True)
        for clip in self.clips.values():
            clip.close()
