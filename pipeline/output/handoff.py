"""Frames from the device to ffmpeg on a background thread.

Encoding a frame takes about as long as dreaming one on a fast GPU; done in
line, each would wait for the other. Here the loop only queues the frame:
on CUDA the uint8 pixels are copied into a pinned host buffer without
waiting, and the thread waits for that copy, then feeds ffmpeg. The loop
blocks only when `depth` frames are already waiting.
"""

from __future__ import annotations

import queue
import threading
from pathlib import Path

import torch

from .encoder import VideoWriter
from ..image.pixels import device_pixels


class BackgroundWriter:
    """A VideoWriter fed from a thread; write() takes (1, 3, H, W) tensors on any device."""

    def __init__(self, writer: VideoWriter, depth: int = 4):
        self.writer = writer
        self.path = writer.path
        self._pending: queue.Queue = queue.Queue(maxsize=depth)
        self._free: list[torch.Tensor] = []  # pinned buffers the thread has finished with
        self._lock = threading.Lock()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._feed, name=f"writer {writer.path.name}", daemon=True)
        self._thread.start()

    def write(self, image: torch.Tensor) -> None:
        self._raise_error()
        pixels = device_pixels(image)
        event = None
        if pixels.is_cuda:
            with self._lock:
                buffer = self._free.pop() if self._free else None
            if buffer is None:
                buffer = torch.empty(pixels.shape, dtype=torch.uint8, pin_memory=True)
            buffer.copy_(pixels, non_blocking=True)
            event = torch.cuda.Event()
            event.record()
            pixels = buffer
        else:
            pixels = pixels.contiguous()
        self._pending.put((pixels, event))

    def _feed(self) -> None:
        while (item := self._pending.get()) is not None:
            pixels, event = item
            if self._error is None:
                try:
                    if event is not None:
                        event.synchronize()
                    self.writer.write(pixels.numpy())
                except BaseException as error:  # handed to the loop at its next call
                    self._error = error
            if event is not None:
                with self._lock:
                    self._free.append(pixels)
            self._pending.task_done()

    def drain(self) -> None:
        """Wait until every queued frame is in ffmpeg's hands."""
        self._pending.join()
        self._raise_error()

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    def _stop(self) -> None:
        if self._thread.is_alive():
            self._pending.put(None)
            self._thread.join()

    def finish(self) -> Path:
        """Write every queued frame, then publish the file (VideoWriter.finish)."""
        self._stop()
        self._raise_error()
        return self.writer.finish()

    def discard(self) -> None:
        self._stop()
        self.writer.discard()
