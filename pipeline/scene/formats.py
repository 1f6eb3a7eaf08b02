"""Output formats, chosen by the output's suffix, and the names of the files a render keeps
beside its output. Pure data: no torch, no ffmpeg.

A path without a suffix is a folder that receives a PNG sequence.
"""

from __future__ import annotations

import hashlib
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


def partial_path(output: Path) -> Path:
    """The temporary name a render writes to until it is complete (and the partial video it keeps)."""
    return output.with_name(output.stem + ".part" + output.suffix)


def sidecar_path(output: Path) -> Path:
    return output.with_name(output.name + ".yaml")


def work_dir(output: Path) -> Path:
    """The folder of finished pieces and the checkpoint while a render is under way."""
    return output.with_name(f".{output.name}.work")


def lock_path(output: Path) -> Path:
    return output.with_name(f".{output.name}.lock")


def own_paths(output: Path) -> dict[str, Path]:
    """Every path a render to `output` may write, by what it is: none may be anything but the render's."""
    lock = lock_path(output)
    return {"the output": output, "the output's sidecar": sidecar_path(output),
            "the partial video": partial_path(output), "the work folder": work_dir(output),
            "the lock": lock, "the lock's holder note": lock.with_name(lock.name + ".holder")}


def cache_dir(output: Path) -> Path:
    """Where analyses worth keeping between renders (a sound track's) are cached, beside the output."""
    return output.with_name(".dreamzoom-cache")


def file_hash(path: Path) -> str:
    """The SHA-256 of a file's bytes: what checkpoints and caches know an input by."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
