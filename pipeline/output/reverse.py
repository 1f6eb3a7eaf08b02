"""Pieces of a reversed video: the dream runs forward, the viewer sees it backwards.

A piece's frames arrive in the dream's order; they are kept on the host (a piece is
bounded: at most `checkpoint_every` frames, 50 by default, about 300 MB at 1920x1080)
and written in the viewer's order when the piece closes, so the piece that holds
timeline frames t..t+k-1 holds video frames N-1-(t+k-1)..N-1-t. The pieces are then
joined in reverse order; the sound is muxed onto the joined video as it plays, forward.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from .encoder import VideoWriter


class ReversingWriter:
    """Quacks like a VideoWriter: frames are held until finish(), then written last first
    through the writer `open(first video frame)` makes."""

    def __init__(self, path: Path, first: int, total: int, open: Callable[[int], VideoWriter]):
        self.path, self.first, self.total, self._open = Path(path), first, total, open
        self.frames: list[np.ndarray] = []
        self.frames_written = 0

    def write(self, frame: np.ndarray) -> None:
        self.frames.append(np.array(frame, copy=True))  # the caller may reuse its buffer
        self.frames_written += 1

    def finish(self) -> Path:
        writer = self._open(self.total - self.first - len(self.frames))
        try:
            while self.frames:
                writer.write(self.frames.pop())
        except BaseException:
            writer.discard()
            raise
        return writer.finish()

    def discard(self) -> None:
        self.frames.clear()


def video_first(first: int, count: int, total: int) -> int:
    """The video frame a reversed piece starts on, from its first timeline frame and length."""
    return total - first - count
