"""Output formats, chosen by the output's suffix. Pure data: no torch, no ffmpeg.

A path without a suffix is a folder that receives a PNG sequence.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Format:
    name: str
    description: str
    even_sides: bool  # chroma subsampling needs even width and height
    audio: bool  # the container carries a sound track
    codecs: tuple[str, ...] = ()  # choices for encode.codec, first is the default


FORMATS = {
    ".mp4": Format("mp4", "MP4, H.264 (plays everywhere) or H.265", True, True, ("h264", "h265")),
    ".mov": Format("mov", "QuickTime ProRes 422 for editing", True, True, ("prores",)),
    ".mkv": Format("mkv", "Matroska, FFV1 lossless (archival)", False, True),
    ".gif": Format("gif", "animated GIF preview", False, False),
    ".webp": Format("webp", "animated WebP preview", False, False),
    "": Format("png", "PNG sequence in a folder, lossless", False, False),
}


def format_of(path: Path) -> Format:
    """The format for an output path; KeyError for an unsupported suffix."""
    return FORMATS[Path(path).suffix.lower()]


def allowed() -> str:
    return ", ".join(f"{suffix or 'a folder (no suffix)'}: {f.description}" for suffix, f in FORMATS.items())
