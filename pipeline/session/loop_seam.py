"""A loop's seam (loop: true): how the last frame of the video flows into its first.

The timeline is dreamed `length` frames past the video's end. Its first `length`
frames are kept aside (in the work folder, so a resumed render has them) and
the video starts after them; its last `length` frames blend the frames dreamed
past the end into the kept ones, easing from all of the one to all of the
other. So the video's last frame is the kept frame just before its first, and
playing it on repeat shows one more step of the same motion at the seam,
never a jump. The sound is cut and blended the same way (output/sinks.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from ..image import pixels


class LoopSeam:
    """Maps each dreamed frame of the timeline to the video frame it becomes, if any."""

    def __init__(self, work: Path, video_frames: int, length: int):
        self.work, self.video_frames, self.length = work, video_frames, length

    def shown(self, index: int, frame: torch.Tensor) -> tuple[int, torch.Tensor] | None:
        """(video frame, picture) for timeline frame `index`, or None for a frame kept aside."""
        if not self.length:
            return index, frame
        if index < self.length:
            self._keep(index, frame)
            return None
        if index < self.video_frames:
            return index - self.length, frame
        position = index - self.video_frames
        u = position / (self.length - 1) if self.length > 1 else 1.0
        weight = u * u * (3.0 - 2.0 * u)  # smoothstep: no kink where the blend begins or ends
        kept = pixels.to_tensor(np.load(self._path(position)), frame.device).to(frame.dtype)
        return index - self.length, torch.lerp(frame, kept, weight)

    def video_frames_before(self, index: int) -> int:
        """How many video frames the timeline frames before `index` have made."""
        return max(0, index - self.length) if self.length else index

    def names(self) -> set[str]:
        """The files of the kept frames, which a resumed render must not clear."""
        return {self._path(i).name for i in range(self.length)}

    def has_kept(self, before: int) -> bool:
        """Whether every frame to keep among the timeline's first `before` is in the work folder."""
        return all(self._path(i).is_file() for i in range(min(before, self.length)))

    def _path(self, index: int) -> Path:
        return self.work / f"loop_start_{index:06d}.npy"

    def _keep(self, index: int, frame: torch.Tensor) -> None:
        """Write the frame as 8-bit pixels (what the video holds), synced and renamed into place."""
        path = self._path(index)
        temp = path.with_name(path.name + ".tmp")
        with open(temp, "wb") as file:
            np.save(file, pixels.to_pixels(frame))
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
