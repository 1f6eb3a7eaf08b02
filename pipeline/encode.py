"""Video encoding: raw frames streamed to ffmpeg (imageio-ffmpeg) over a pipe.

The file is written under a temporary name beside the target and renamed
only when ffmpeg has finished, so a finished name always means a finished
video. H.264 in yuv420p with the index at the front (+faststart) plays in
browsers and every common player.
"""

from __future__ import annotations

import os
from pathlib import Path

import imageio_ffmpeg
import numpy as np


class EncodeError(RuntimeError):
    pass


def partial_path(path: Path) -> Path:
    return path.with_name(path.stem + ".part" + path.suffix)


class VideoWriter:
    """Write (H, W, 3) uint8 frames to an MP4; `finish()` publishes it atomically."""

    def __init__(self, path: Path, width: int, height: int, fps: float, crf: int, preset: str):
        if width % 2 or height % 2:
            raise ValueError(f"H.264 needs even sides, got {width}x{height}")
        self.path = Path(path)
        self.temp = partial_path(self.path)
        self.width, self.height = width, height
        self.frames_written = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = imageio_ffmpeg.write_frames(
            str(self.temp),
            (width, height),
            fps=fps,
            codec="libx264",
            pix_fmt_out="yuv420p",
            quality=None,
            macro_block_size=1,
            ffmpeg_log_level="error",
            output_params=["-crf", str(crf), "-preset", preset, "-movflags", "+faststart"],
        )
        self._writer.send(None)

    def write(self, frame: np.ndarray) -> None:
        if frame.shape != (self.height, self.width, 3) or frame.dtype != np.uint8:
            raise ValueError(f"expected a ({self.height}, {self.width}, 3) uint8 frame, got {frame.shape} {frame.dtype}")
        try:
            self._writer.send(np.ascontiguousarray(frame))
        except OSError as error:
            raise EncodeError(f"ffmpeg stopped while writing {self.temp}: {str(error).splitlines()[0]}") from None
        self.frames_written += 1

    def _close(self) -> None:
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.close()

    def finish(self) -> Path:
        """Close ffmpeg and move the finished video to its final name."""
        self._close()
        if not self.temp.is_file() or self.temp.stat().st_size == 0:
            raise EncodeError(f"ffmpeg produced no video at {self.temp}")
        os.replace(self.temp, self.path)
        return self.path

    def keep_partial(self) -> Path | None:
        """Close ffmpeg cleanly and leave what was written, playable, under the temporary name."""
        self._close()
        return self.temp if self.frames_written and self.temp.is_file() else None

    def discard(self) -> None:
        self._close()
        self.temp.unlink(missing_ok=True)
