"""The sidecar: a scene file written next to every output, so any video can be redone.

It holds the fully resolved scene (defaults filled in, paths made relative to
the sidecar) plus a `rendered:` section saying how, where and with what it was
made. It is itself a valid scene: `python render.py out.mp4.yaml` renders it again.
"""

from __future__ import annotations

import os
import platform
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from ..scene.keyframes import Track
from ..scene.schema import DREAM_DEFAULTS, MOTION_DEFAULTS, Scene


def sidecar_path(output: Path) -> Path:
    return output.with_name(output.name + ".yaml")


def _plain(value: Any) -> Any:
    """Scene values as a person would write them in YAML (unset keys left out)."""
    if isinstance(value, BaseModel):
        fields = type(value).model_fields.items()
        return {
            field.alias or name: _plain(getattr(value, name))
            for name, field in fields
            if getattr(value, name) is not None and name != "rendered"
        }
    if isinstance(value, Track):
        if value.is_constant:
            return _plain(value.points[0][1])
        keys = {frame: _plain(v) for frame, v in value.points}
        return keys if value.ease == "linear" else {**keys, "ease": value.ease}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _relative(path: Path, folder: Path) -> str:
    return os.path.relpath(path.resolve(), folder.resolve())


def sidecar_data(scene: Scene, output: Path, details: dict) -> dict:
    folder = output.parent
    data = _plain(scene)
    # Built-in defaults written out, so a later release's defaults cannot change the redo.
    data["dream"] = {**_plain(DREAM_DEFAULTS), **data["dream"]}
    data["motion"] = {**_plain(MOTION_DEFAULTS), **data["motion"]}
    data["output"] = output.name
    if scene.start_image is not None:
        data["start"] = _relative(scene.start_image, folder)
    if isinstance(scene.weights_source, Path):
        data["weights"] = _relative(scene.weights_source, folder)
    if scene.audio_path is not None:
        data["audio"]["file"] = _relative(scene.audio_path, folder)
    for segment, source in zip(data["segments"], scene.segments):
        if source.guide is not None:
            segment["guide"]["image"] = _relative(scene.file.parent / source.guide.image, folder)
    data["rendered"] = details
    return data


def versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    import imageio_ffmpeg
    import torch

    def installed(package: str, otherwise: str) -> str:
        try:
            return version(package)
        except PackageNotFoundError:
            return otherwise

    return {
        "dreamzoom": installed("dreamzoom", "source"),
        "python": platform.python_version(),
        "torch": str(torch.__version__),
        "torchvision": installed("torchvision", "not installed"),  # read, not imported: that takes 2 s
        "ffmpeg": imageio_ffmpeg.get_ffmpeg_version(),
        "platform": platform.platform(),
    }


def invoked_as() -> str:
    """How this process was started: render.py, python -m pipeline or dreamzoom."""
    name = Path(sys.argv[0]).name
    return "python -m pipeline" if name == "__main__.py" else name


def command_line() -> str:
    """The command as it was typed, so the sidecar says how to run it again."""
    return " ".join([invoked_as(), shlex.join(sys.argv[1:])]).strip()


def write_sidecar(scene: Scene, output: Path, details: dict) -> Path:
    """Write `output`'s sidecar atomically; returns its path."""
    path = sidecar_path(output)
    details = {
        "scene": str(scene.file),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": command_line(),
        **details,
        "versions": versions(),
    }
    text = "# Written by dreamzoom: the scene exactly as rendered. Render it again with\n"
    text += f"#   python render.py {path}\n"
    text += yaml.safe_dump(sidecar_data(scene, output, details), sort_keys=False, allow_unicode=True)
    temp = path.with_name(path.name + ".part")
    temp.write_text(text)
    os.replace(temp, path)
    return path
