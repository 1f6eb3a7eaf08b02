"""ImageNet class names (torchvision's list, stored as text so lookups need no torch)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def class_names() -> list[str]:
    return (Path(__file__).with_name("imagenet_classes.txt")).read_text().splitlines()


def class_index(name_or_index: str | int) -> int:
    """'tabby', 'Tabby', 281 or '281' -> 281. KeyError if unknown."""
    if isinstance(name_or_index, int) or str(name_or_index).isdigit():
        index = int(name_or_index)
        if 0 <= index < 1000:
            return index
        raise KeyError(name_or_index)
    lowered = [n.lower() for n in class_names()]
    wanted = str(name_or_index).strip().lower()
    if wanted not in lowered:
        raise KeyError(name_or_index)
    return lowered.index(wanted)
