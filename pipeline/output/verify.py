"""Checking what was written: a file counts only once it decodes to the frames we meant.

Every frame of the stream is decoded (a truncated or damaged file decodes to fewer
frames, or fails), and the stream's own facts give the size and frame rate.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from ..media import ffmpeg


class Damaged(Exception):
    """A piece or an output is not what was written into it; the message says how.
    `piece` is the index of the damaged piece among a render's pieces, where known."""

    piece: int = 0


def video_facts(path: Path) -> tuple[int, tuple[int, int], float | None]:
    """(decoded frames, (width, height), fps or None) of a video file, every frame decoded;
    Damaged if it cannot be read."""
    try:
        facts = ffmpeg.probe(path)
        frames = ffmpeg.decoded_frames(path)
    except ffmpeg.MediaError as error:
        raise Damaged(f"{path.name} does not decode: {error}") from None
    video = facts.video  # decoded_frames found it
    # The rate its timestamps step at: frames over time is off where the container rounds times
    # (Matroska's milliseconds: 30.3 for 30).
    rate = video.base_rate or video.rate
    return frames, (video.width, video.height), float(rate) if rate else None


def verify_video(path: Path, frames: int, size: tuple[int, int], fps: float | None) -> None:
    """Damaged unless `path` decodes to exactly `frames` frames of `size` at `fps` (None: not checked)."""
    found, found_size, found_fps = video_facts(path)
    if found != frames:
        raise Damaged(f"{path.name} decodes to {found} frames, not {frames}")
    if found_size != tuple(size):
        raise Damaged(f"{path.name} is {found_size[0]}x{found_size[1]}, not {size[0]}x{size[1]}")
    # one frame has no step to read a rate from (a Matroska piece of one frame at 1 fps reads 1000)
    if fps is not None and found_fps is not None and frames > 1 and abs(found_fps - fps) > 0.01 * fps:
        raise Damaged(f"{path.name} plays at {found_fps:g} fps, not {fps:g}")


def verify_png_folder(folder: Path, names: list[str], size: tuple[int, int]) -> None:
    """Damaged unless the folder holds exactly these PNG frames, each complete and of `size`."""
    present = sorted(p.name for p in folder.glob("*.png")) if folder.is_dir() else []
    if present != sorted(names):
        raise Damaged(f"{folder.name} holds {len(present)} frames, not the {len(names)} written")
    for name in names:
        try:
            with Image.open(folder / name) as image:
                image.load()
                found = image.size
        except (OSError, SyntaxError) as error:
            raise Damaged(f"{name} in {folder.name} does not decode: {error}") from None
        if found != tuple(size):
            raise Damaged(f"{name} is {found[0]}x{found[1]}, not {size[0]}x{size[1]}")
