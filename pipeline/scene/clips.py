"""Video clips as a scene's start: which files are clips, and what a clip holds (length, frame
rate, sound), read from ffmpeg's own account of the file so a scene is checked, and its length
known, before anything is dreamed. No torch; the frames themselves are read by the render
(session/footage.py).
"""

from __future__ import annotations

import functools
import math
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

CLIP_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm", ".m4v", ".avi", ".gif")  # a .gif is a clip when animated
CLIP_FORMATS = ", ".join(suffix[1:] for suffix in CLIP_SUFFIXES[:-1]) + ", animated gif"
CLIP_KINDS = f"a video file ({CLIP_FORMATS})"
PROBE_TIMEOUT = 120  # seconds; reading a header and one frame takes a fraction of one
# Containers a clip may be, by ffmpeg's demuxer names. Playlists and lists of other files (concat, hls,
# image sequences) are refused whatever their name: a scene's clip is that one file, nothing it points to.
CONTAINERS = ("mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "avi", "gif")
# Files are the only source ffmpeg may open: a clip can never make a render reach the network.
LOCAL_ONLY = ("-protocol_whitelist", "file")


def ffmpeg_command(*args: str) -> list[str]:
    """The bundled ffmpeg, quiet about itself, reading no terminal and only local files."""
    import imageio_ffmpeg

    return [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", *LOCAL_ONLY, *args]


class ClipError(ValueError):
    """A clip ffmpeg cannot play as video; the message says why, in one line."""


@dataclass(frozen=True)
class ClipInfo:
    path: Path
    seconds: float  # how long it plays
    fps: float  # frames per second (the average where the rate varies)
    variable: bool  # the frame rate varies: frames are resampled to a constant rate by their times
    has_audio: bool

    def frames_at(self, fps: float) -> int:
        """Frames it fills at `fps`, as ffmpeg's fps filter resamples it (a half rounds up)."""
        return max(1, math.floor(self.seconds * fps + 0.5))


def is_clip(path: Path) -> bool:
    """Whether an input file is a video clip: a video suffix, or a GIF of more than one frame."""
    suffix = Path(path).suffix.lower()
    if suffix != ".gif":
        return suffix in CLIP_SUFFIXES
    from PIL import Image

    try:
        with Image.open(path) as opened:
            return getattr(opened, "n_frames", 1) > 1
    except (OSError, ValueError, SyntaxError):
        return False  # reported as an unreadable image


def probe(path: Path) -> ClipInfo:
    """What the clip at `path` holds; ClipError when it has no video ffmpeg can decode."""
    path = Path(path)
    if not path.is_file():
        raise ClipError(f"clip '{path}' not found")
    stat = path.stat()
    found = _probe_once(path.resolve(), stat.st_mtime_ns, stat.st_size)
    if isinstance(found, ClipError):
        raise found
    return found


def _ffmpeg(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(ffmpeg_command(*args), capture_output=True, text=True, errors="replace",
                          timeout=PROBE_TIMEOUT)


@functools.lru_cache(maxsize=64)
def _probe_once(path: Path, _mtime: int, _size: int) -> ClipInfo | ClipError:
    """A file's probe, its failure too: the checks ask about a clip several times."""
    try:
        return _probe(path)
    except ClipError as error:
        return error


def _probe(path: Path) -> ClipInfo:
    """The header, and the first frame decoded, so a damaged stream is found now, not mid-render."""
    name = path.name
    try:
        run = _ffmpeg("-i", str(path), "-map", "0:v:0", "-frames:v", "1", "-f", "null", "-")
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ClipError(f"cannot read clip '{name}' ({error})") from None
    header = run.stderr
    container = re.search(r"Input #0, (.*?), from ", header)
    if container and container[1] not in CONTAINERS:
        raise ClipError(f"cannot use clip '{name}': it is a {container[1]} file, not a video; give {CLIP_KINDS}")
    video = re.search(r"Stream #\S+.*?: Video: (.*)", header)
    if run.returncode != 0 or video is None:
        reason = "it has no video stream" if video is None and "Stream #" in header else "ffmpeg cannot read it"
        raise ClipError(f"cannot use clip '{name}': {reason}; give {CLIP_KINDS}")
    frames = re.findall(r"frame=\s*(\d+)", header)
    if not frames or int(frames[-1]) == 0:
        raise ClipError(f"clip '{name}' holds no video frames that decode")
    fps = _exact_rate(_number(r"([\d.]+) fps", video[1]))
    nominal = _exact_rate(_number(r"([\d.]+) tbr", video[1]))
    seconds = _video_seconds(path, _seconds(header), fps or nominal)
    if not seconds or not (fps or nominal):
        raise ClipError(f"clip '{name}' says neither how long it plays nor its frame rate; re-encode it "
                        "(e.g. ffmpeg -i IN -c:v libx264 OUT.mp4)")
    variable = (path.suffix.lower() != ".gif" and fps is not None and nominal is not None
                and abs(fps - nominal) > 0.01 * nominal)  # GIF delays are per frame by nature
    return ClipInfo(path, seconds, fps or nominal, variable, bool(re.search(r"Stream #\S+.*?: Audio:", header)))


def _number(pattern: str, text: str) -> float | None:
    found = re.search(pattern, text)
    value = float(found[1]) if found else 0.0
    return value if math.isfinite(value) and value > 0 else None


def _exact_rate(shown: float | None) -> float | None:
    """ffmpeg prints rates rounded (23.98 for 24000/1001): the NTSC rate it stands for, exactly, so the
    frames keep step with the clip's sound over a long clip."""
    if shown is None:
        return None
    whole = round(shown * 1.001)
    near_ntsc = abs(shown * 1.001 - whole) < 0.006 and abs(shown - round(shown)) > 0.006
    return whole * 1000 / 1001 if near_ntsc else shown


def _clock(text: str) -> float:
    """HH:MM:SS.ss as seconds."""
    hours, minutes, seconds = text.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def _seconds(header: str) -> float | None:
    found = re.search(r"Duration: (\d+:\d\d:\d\d(?:\.\d+)?)", header)
    return _clock(found[1]) if found else None


def _video_seconds(path: Path, header: float | None, fps: float | None) -> float | None:
    """How long the video plays: the header's duration counts every stream (a longer sound track
    too), so the video's own packets are read through (no decoding) and, where they end more than
    two frames sooner, their end is the clip's."""
    try:
        run = _ffmpeg("-i", str(path), "-map", "0:v:0", "-c", "copy", "-f", "null", "-")
    except (OSError, subprocess.TimeoutExpired):
        return header
    times = re.findall(r"time=(\d+:\d\d:\d\d(?:\.\d+)?)", run.stderr)
    if not times or not fps:
        return header
    played = _clock(times[-1]) + 1.0 / fps
    counted = re.findall(r"frame=\s*(\d+)", run.stderr)
    if counted and int(counted[-1]) > 0:
        played = min(played, int(counted[-1]) / fps)
    return played if header is None or header > played + 2.0 / fps else header
