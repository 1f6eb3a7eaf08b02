"""ffmpeg, in one place: the binary, its command lines, starting it, and the facts of a media file.

Every command runs the ffmpeg that imageio-ffmpeg bundles, quiet but for errors and reading no
terminal. Every input it opens is limited to local files and pipes (a playlist or a list of
files cannot make it reach the network), and every file is handed over as an absolute path, so
no name (a leading '-', quotes, 'concat:...', 'http:...') can pass for an option or a protocol.

Facts about a file (frame rate, frame count, length, size, codec, sound) are read with PyAV,
which asks FFmpeg's own demuxer and decoder for them: rates come back as exact fractions
(24000/1001, not a printed 23.98 to guess from) and counts and times from the packets, instead
of being parsed out of the text ffmpeg prints. Its wheels bundle their own FFmpeg libraries, so
no system ffprobe is needed (imageio-ffmpeg ships none).
"""

from __future__ import annotations

import functools
import math
import subprocess
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

# An input option, so given before every -i. "-" (stdin) is the fd protocol in newer ffmpeg, pipe in older.
LOCAL_ONLY = ("-protocol_whitelist", "file,pipe,fd")
LOCAL_FILES = {"protocol_whitelist": "file"}  # the same for PyAV, which opens only files


class MediaError(Exception):
    """ffmpeg could not do what was asked; the message is one line (ffmpeg's last, where it said one)."""


class NotRun(MediaError):
    """ffmpeg could not be started, or did not finish in time."""


@functools.lru_cache(maxsize=1)
def executable() -> str:
    """The bundled ffmpeg binary (fetched by imageio-ffmpeg on first use where the wheel has none)."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def version() -> str:
    """The bundled ffmpeg's version, for a render's sidecar."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_version()


def command(*args: str | Path, level: str = "error") -> list[str]:
    """The whole command line for ffmpeg `args`: Paths become absolute names, and each input (-i)
    is limited to local files and pipes. Outputs are overwritten: every name written is the render's.
    `level` is what ffmpeg prints to stderr: errors, or "info" where a filter reports there."""
    line = [executable(), "-hide_banner", "-nostdin", "-nostats", "-y", "-v", level]
    for arg in args:
        if arg == "-i":
            line += LOCAL_ONLY
        line.append(str(Path(arg).resolve()) if isinstance(arg, Path) else arg)
    return line


def _last_line(stderr: bytes) -> str:
    return (stderr.decode(errors="replace").strip().splitlines() or ["no message"])[-1]


def run(*args: str | Path, timeout: float | None = None) -> bytes:
    """Run ffmpeg to the end and return what it wrote to stdout; MediaError with its last line if
    it fails, NotRun if it cannot start or takes longer than `timeout` seconds."""
    try:
        result = subprocess.run(command(*args), capture_output=True, timeout=timeout, start_new_session=True)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise NotRun(str(error)) from None
    if result.returncode != 0:
        raise MediaError(_last_line(result.stderr))
    return result.stdout


def run_reporting(*args: str | Path, timeout: float | None = None) -> str:
    """Run ffmpeg to the end and return what it printed at log level info: where filters that
    measure (loudnorm) write their results. MediaError and NotRun as for run()."""
    try:
        result = subprocess.run(command(*args, level="info"), capture_output=True, timeout=timeout,
                                start_new_session=True)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise NotRun(str(error)) from None
    if result.returncode != 0:
        raise MediaError(_last_line(result.stderr))
    return result.stderr.decode(errors="replace")


class FrameWriter:
    """An ffmpeg that encodes the raw frames written to it. Its errors go to a temporary file, so a
    failure is told in one line, not printed over the user's terminal. In a session of its own:
    Ctrl-C is the render's to handle, and an interrupted piece is closed, playable."""

    def __init__(self, args: list[str | Path]):
        self.errors = tempfile.TemporaryFile()
        self.process = subprocess.Popen(command(*args), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                        stderr=self.errors, start_new_session=True)

    def write(self, data) -> None:
        """Hand ffmpeg one frame's bytes; MediaError if it has stopped."""
        try:
            self.process.stdin.write(data)
        except OSError as error:
            self.process.wait()
            raise MediaError(self._said() or str(error)) from None

    def _said(self) -> str:
        self.errors.seek(0)
        said = self.errors.read()
        return _last_line(said) if said.strip() else ""

    def close(self) -> str | None:
        """Let ffmpeg finish the file; why it failed, or None."""
        try:
            self.process.stdin.close()
        except OSError:
            pass  # it had stopped already: its exit says why
        code = self.process.wait()
        said = self._said()
        self.errors.close()
        return (said or f"exit status {code}") if code else None


def encoder(target: Path, size: tuple[int, int], fps: float, codec: str, pix_fmt: str,
            params: list[str]) -> FrameWriter:
    """An ffmpeg that encodes (H, W, 3) uint8 RGB frames of `size` (width, height) at `fps` into
    `target` with `codec`, `pix_fmt` and further output `params`. A float rate is passed as the
    fraction it stands for (23.976... as 24000/1001)."""
    rate = Fraction(fps).limit_denominator()
    return FrameWriter(["-f", "rawvideo", "-vcodec", "rawvideo", "-s", f"{size[0]}x{size[1]}", "-pix_fmt", "rgb24",
                        "-r", str(rate), "-i", "-", "-an", "-vcodec", codec, "-pix_fmt", pix_fmt, *params, target])


class FrameReader:
    """An ffmpeg that decodes a video to (H, W, 3) uint8 RGB frames, read one at a time from its pipe.
    In a session of its own: Ctrl-C is the render's to handle, not a dead decoder."""

    def __init__(self, path: Path, size: tuple[int, int], video_filter: str | None = None):
        self.size = size
        scale = ["-vf", video_filter] if video_filter else []
        self.process = subprocess.Popen(
            command("-i", Path(path), "-map", "0:v:0", *scale, "-pix_fmt", "rgb24", "-f", "rawvideo", "-"),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)

    def read(self) -> np.ndarray | None:
        """The next frame, or None after the last."""
        width, height = self.size
        data = self.process.stdout.read(width * height * 3)
        if len(data) < width * height * 3:
            return None
        return np.frombuffer(data, np.uint8).reshape(height, width, 3)

    def close(self) -> None:
        self.process.kill()
        self.process.stdout.close()
        self.process.wait()


def frames(path: Path) -> Iterator[np.ndarray]:
    """Every frame of a video file at its own size, in order, as (H, W, 3) uint8 RGB."""
    facts = probe(path)
    if facts.video is None:
        raise MediaError(f"{Path(path).name} has no video stream")
    reader = FrameReader(path, (facts.video.width, facts.video.height))
    try:
        while (frame := reader.read()) is not None:
            yield frame
    finally:
        reader.close()


@dataclass(frozen=True)
class VideoFacts:
    width: int
    height: int
    codec: str
    pix_fmt: str | None
    rate: Fraction | None  # frames per second on average (ffmpeg's "fps"); exact
    base_rate: Fraction | None  # the rate its timestamps step at (ffmpeg's "tbr"); differs where the rate varies
    frames: int  # packets of the stream: its frames, counted without decoding
    seconds: float | None  # from the first frame's start to the last one's end, from the packets' times
    bytes: int = 0  # of the stream's packets: its size without the container's


@dataclass(frozen=True)
class AudioFacts:
    codec: str
    sample_rate: int
    channels: int


@dataclass(frozen=True)
class Facts:
    """What a media file holds, as its demuxer tells it: its first video and sound streams."""

    container: str  # the demuxer's name, e.g. "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "concat"
    seconds: float | None  # the container's length: its longest stream
    video: VideoFacts | None
    audio: AudioFacts | None


def _open(path: Path):
    """The file opened by PyAV (imported here: scene checks that need no media stay quick), local files only."""
    import av

    try:
        return av.open(str(Path(path).resolve()), container_options=LOCAL_FILES)
    except (av.FFmpegError, OSError, ValueError) as error:
        raise MediaError(_reason(error)) from None


def _reason(error: Exception) -> str:
    """One line for PyAV's error: FFmpeg's words without the errno and file name around them."""
    return str(getattr(error, "strerror", None) or error).splitlines()[0]


def _rate(value) -> Fraction | None:
    return Fraction(value) if value else None


def probe(path: Path) -> Facts:
    """The facts of the file at `path`, its video packets read through (not decoded); MediaError
    when FFmpeg cannot read it."""
    import av

    with _open(path) as container:
        video = next(iter(container.streams.video), None)
        audio = next(iter(container.streams.audio), None)
        video_facts = None
        if video is not None:
            count, size, first, end = 0, 0, math.inf, -math.inf
            try:
                for packet in container.demux(video):
                    if packet.size == 0 or packet.pts is None:
                        continue  # the flush packet at the end, or one with no time
                    count += 1
                    size += packet.size
                    first, end = min(first, packet.pts), max(end, packet.pts + (packet.duration or 0))
            except av.FFmpegError:
                pass  # damaged further on: the packets so far are what plays
            seconds = float((end - first) * video.time_base) if count and end > first else None
            context = video.codec_context
            video_facts = VideoFacts(context.width, context.height, context.name,
                                     context.format.name if context.format else None,
                                     _rate(video.average_rate), _rate(video.base_rate), count, seconds, size)
        audio_facts = None
        if audio is not None:
            audio_facts = AudioFacts(audio.codec_context.name, audio.codec_context.sample_rate,
                                     audio.codec_context.channels)
        length = container.duration / av.time_base if container.duration and container.duration > 0 else None
        return Facts(container.format.name, length, video_facts, audio_facts)


def decoded_frames(path: Path, limit: int | None = None) -> int:
    """How many frames of the first video stream decode (up to `limit`): a truncated or damaged file
    decodes to fewer, or not at all (MediaError)."""
    import av

    with _open(path) as container:
        if not container.streams.video:
            raise MediaError("it has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        count = 0
        try:
            for _ in container.decode(stream):
                count += 1
                if limit is not None and count >= limit:
                    break
        except av.FFmpegError as error:
            raise MediaError(_reason(error)) from None
        return count
