"""Video clips as a scene's start: which files are clips, and what a clip holds (length, frame
rate, sound), read from the file's own streams (media/ffmpeg.py) so a scene is checked, and its
length known, before anything is dreamed. No torch; the frames themselves are read by the render
(session/footage.py).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path

from ..media import ffmpeg

CLIP_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm", ".m4v", ".avi", ".gif")  # a .gif is a clip when animated
CLIP_FORMATS = ", ".join(suffix[1:] for suffix in CLIP_SUFFIXES[:-1]) + ", animated gif"
CLIP_KINDS = f"a video file ({CLIP_FORMATS})"
# Containers a clip may be, by ffmpeg's demuxer names. Playlists and lists of other files (concat, hls,
# image sequences) are refused whatever their name: a scene's clip is that one file, nothing it points to.
CONTAINERS = ("mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "avi", "gif")


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


@functools.lru_cache(maxsize=64)
def _probe_once(path: Path, _mtime: int, _size: int) -> ClipInfo | ClipError:
    """A file's probe, its failure too: the checks ask about a clip several times."""
    try:
        return _probe(path)
    except ClipError as error:
        return error


def _probe(path: Path) -> ClipInfo:
    """The streams, and the first frame decoded, so a damaged stream is found now, not mid-render."""
    name = path.name
    try:
        facts = ffmpeg.probe(path)
    except ffmpeg.MediaError:
        raise ClipError(f"cannot use clip '{name}': ffmpeg cannot read it; give {CLIP_KINDS}") from None
    if facts.container not in CONTAINERS:
        raise ClipError(f"cannot use clip '{name}': it is a {facts.container} file, not a video; give {CLIP_KINDS}")
    video = facts.video
    if video is None:
        raise ClipError(f"cannot use clip '{name}': it has no video stream; give {CLIP_KINDS}")
    try:
        decodes = ffmpeg.decoded_frames(path, limit=1) > 0
    except ffmpeg.MediaError:
        decodes = False
    if not decodes:
        raise ClipError(f"clip '{name}' holds no video frames that decode")
    fps = video.rate or video.base_rate
    seconds = video.seconds or facts.seconds  # the video's own time: a longer sound track is not the clip's
    if not seconds or not fps:
        raise ClipError(f"clip '{name}' says neither how long it plays nor its frame rate; re-encode it "
                        "(e.g. ffmpeg -i IN -c:v libx264 OUT.mp4)")
    variable = (path.suffix.lower() != ".gif" and video.rate is not None and video.base_rate is not None
                and abs(video.rate - video.base_rate) > 0.01 * video.base_rate)  # GIF delays are per frame by nature
    return ClipInfo(path, seconds, float(fps), variable, facts.audio is not None)
