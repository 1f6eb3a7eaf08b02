"""Writing frames: raw RGB streamed to ffmpeg (media/ffmpeg.py) over a pipe.

A file is written under a temporary name beside its target and renamed only
when ffmpeg has finished, so a finished name always means a finished file (or
folder, for PNG sequences). The suffix picks the format (scene/formats.py):
H.264/H.265 MP4 with +faststart, ProRes 422 MOV, FFV1 MKV, GIF, WebP or PNG frames.
"""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path

import numpy as np

from ..media import ffmpeg
from ..scene.formats import format_of
from .layout import partial_path


class EncodeError(RuntimeError):
    pass


def png_pattern(path: Path) -> str:
    """File names inside a PNG-sequence folder: NAME_00000.png, numbered by timeline frame.
    A printf pattern (for ffmpeg and Python's %), so a % in NAME is doubled."""
    return f"{Path(path).name.replace('%', '%%')}_%05d.png"


GIF_MIN_DELAY = 2  # hundredths of a second: browsers play a delay of 1 as 10, far slower


def gif_fps(fps: float) -> float:
    """The frame rate a GIF can hold closest to `fps`: its frame delays are whole hundredths of a
    second (30 fps -> 33.3, 24 -> 25, 15 -> 14.3). The encoder writes GIFs at this rate."""
    return 100 / max(GIF_MIN_DELAY, math.floor(100 / fps + 0.5))


def rate_cap(max_bitrate: int | None) -> list[str]:
    """x264/x265 flags that keep a CRF encode under `max_bitrate` bit/s (capped CRF): the rate
    may reach the cap, averaged over a two-second buffer, and no more. None: no cap."""
    if max_bitrate is None:
        return []
    return ["-maxrate", str(int(max_bitrate)), "-bufsize", str(2 * int(max_bitrate))]


def codec_params(path: Path, codec: str, crf: int, preset: str, first_frame: int = 0,
                 max_bitrate: int | None = None) -> tuple[str, str, list[str]]:
    """(ffmpeg codec, output pixel format, extra output parameters) for a format."""
    kind = format_of(path).name
    if kind == "mp4" and codec == "h265":
        return "libx265", "yuv420p", ["-crf", str(crf), "-preset", preset, *rate_cap(max_bitrate),
                                      "-x265-params", "log-level=error"]
    if kind == "mp4":
        return "libx264", "yuv420p", ["-crf", str(crf), "-preset", preset, *rate_cap(max_bitrate)]
    if kind == "mov":
        return "prores_ks", "yuv422p10le", ["-profile:v", "2", "-vendor", "apl0"]
    if kind == "mkv":
        return "ffv1", "bgr0", ["-level", "3"]
    if kind == "gif":
        # Every frame gets the same whole-hundredths delay (gif_fps), instead of 3, 3, 4, 3, 3, 4 ... for 30 fps:
        # retimed to that rate, then held there, from the input's own rate (FR), which the pieces keep.
        delay = f"max({GIF_MIN_DELAY}\\,floor(100/FR+0.5))"
        retime = f"setpts=N*{delay}/(100*TB),fps=fps=100/{delay.replace('FR', 'source_fps')}:eof_action=pass"
        palette = "split[a][b];[a]palettegen=stats_mode=diff[p];[b][p]paletteuse=dither=sierra2_4a"
        return "gif", "rgb8", ["-vf", f"{retime},{palette}", "-loop", "0"]
    if kind == "webp":
        return "libwebp", "yuv420p", ["-loop", "0", "-quality", str(max(0, 100 - 2 * crf)), "-f", "webp"]
    return "png", "rgb24", ["-f", "image2", "-start_number", str(first_frame)]


def container_params(path: Path, codec: str) -> list[str]:
    """Flags for the final file: index up front for the web, the tag Apple players want."""
    kind = format_of(path).name
    params = ["-movflags", "+faststart"] if kind in ("mp4", "mov") else []
    return params + (["-tag:v", "hvc1"] if kind == "mp4" and codec == "h265" else [])


class VideoWriter:
    """Write (H, W, 3) uint8 frames; `finish()` publishes the result atomically."""

    def __init__(
        self,
        path: Path,
        width: int,
        height: int,
        fps: float,
        crf: int = 18,
        preset: str = "medium",
        codec: str = "h264",
        frame_count: int | None = None,
        fade: tuple[float, float] = (0.0, 0.0),
        first_frame: int = 0,
        total_frames: int | None = None,
        png_name: str | None = None,
        max_bitrate: int | None = None,
    ):
        """frame_count: frames this file will get; first_frame/total_frames place
        them on the scene's timeline (a --frames sub-range), for fades and sound; max_bitrate
        (bit/s) caps an H.264/H.265 CRF encode."""
        self.path = Path(path)
        self.format = format_of(self.path)
        if self.format.even_sides and (width % 2 or height % 2):
            raise ValueError(f"{self.format.name} needs even sides, got {width}x{height}")
        self.temp = partial_path(self.path)
        self.width, self.height, self.fps = width, height, fps
        self.frame_count = frame_count
        self.first_frame = first_frame
        self.total_frames = total_frames if total_frames is not None else frame_count
        self.fade_frames = (round(fade[0] * fps), round(fade[1] * fps))
        self.frames_written = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        ffmpeg_codec, pix_fmt, params = codec_params(self.path, codec, crf, preset, first_frame, max_bitrate)
        params = params + container_params(self.path, codec)
        target = self.temp
        if self.format.name == "png":
            shutil.rmtree(self.temp, ignore_errors=True)
            self.temp.mkdir(parents=True)
            target = self.temp / png_pattern(Path(png_name or self.path.name))
        self._writer = ffmpeg.encoder(target, (width, height), fps, ffmpeg_codec, pix_fmt, params)

    def _faded(self, frame: np.ndarray) -> np.ndarray:
        """Fade from black at the start and to black at the end."""
        fade_in, fade_out = self.fade_frames
        index, total = self.first_frame + self.frames_written, self.total_frames
        level = 1.0
        if fade_in and index < fade_in:
            level = min(level, (index + 1) / (fade_in + 1))
        if fade_out and total is not None and index >= total - fade_out:
            level = min(level, (total - index) / (fade_out + 1))
        if level >= 1.0:
            return frame
        return (frame.astype(np.float32) * level).round().astype(np.uint8)

    def write(self, frame: np.ndarray) -> None:
        if frame.shape != (self.height, self.width, 3) or frame.dtype != np.uint8:
            raise ValueError(f"expected a ({self.height}, {self.width}, 3) uint8 frame, got {frame.shape} {frame.dtype}")
        try:
            self._writer.write(np.ascontiguousarray(self._faded(frame)))
        except ffmpeg.MediaError as error:
            raise EncodeError(f"ffmpeg stopped while writing {self.temp}: {error}") from None
        self.frames_written += 1

    def _close(self) -> str | None:
        """Let ffmpeg finish; why it failed, or None."""
        if self._writer is None:
            return None
        writer, self._writer = self._writer, None
        return writer.close()

    def finish(self) -> Path:
        """Close ffmpeg and move the finished output to its final name."""
        failed = self._close()
        if failed:
            raise EncodeError(f"ffmpeg stopped while writing {self.temp}: {failed}")
        written = self.temp.exists() and (self.temp.is_dir() and any(self.temp.iterdir()) or self.temp.stat().st_size)
        if not written:
            raise EncodeError(f"ffmpeg produced nothing at {self.temp}")
        if self.path.is_dir():
            shutil.rmtree(self.path)
        os.replace(self.temp, self.path)
        return self.path

    def discard(self) -> None:
        self._close()
        if self.temp.is_dir():
            shutil.rmtree(self.temp, ignore_errors=True)
        else:
            self.temp.unlink(missing_ok=True)
