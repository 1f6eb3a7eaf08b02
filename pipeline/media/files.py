"""What a render knows an input file by, and how a file is laid out."""

from __future__ import annotations

import hashlib
import os
import struct
from pathlib import Path


def file_hash(path: Path) -> str:
    """The SHA-256 of a file's bytes: what checkpoints and caches know an input by."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def moov_before_mdat(path: Path) -> bool | None:
    """Whether an MP4 or MOV file's index (its `moov` box) comes before its media data (`mdat`):
    "fast start", so it plays while it downloads. Only the top-level box headers are read.
    None when the file is not made of such boxes."""
    with open(path, "rb") as file:
        end = os.fstat(file.fileno()).st_size
        offset = 0
        while offset + 8 <= end:
            file.seek(offset)
            header = file.read(16)
            size, kind = struct.unpack(">I4s", header[:8])
            if size == 1 and len(header) == 16:  # a 64-bit size follows the type
                size = struct.unpack(">Q", header[8:])[0]
            elif size == 0:  # the last box, to the end of the file
                size = end - offset
            if size < 8:
                return None
            if kind == b"moov":
                return True
            if kind == b"mdat":
                return False
            offset += size
    return None
