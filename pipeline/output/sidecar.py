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

from .layout import sidecar_path
from ..scene.schema import DREAM_DEFAULTS, MOTION_DEFAULTS, Scene


def _relative(path: Path, folder: Path) -> str:
    return os.path.relpath(path.resolve(), folder.resolve())


def _lists(value: Any) -> Any:
    """Tuples as lists, all the way down: YAML's safe dumper writes lists."""
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    return [_lists(v) for v in value] if isinstance(value, (list, tuple)) else value


def _put(data: dict, path: tuple, value: Any) -> None:
    for part in path[:-1]:
        data = data[part]
    data[path[-1]] = value


def sidecar_data(scene: Scene, output: Path, details: dict) -> dict:
    """The scene as written, with the built-in defaults filled in (so a later release's defaults
    cannot change the redo) and every input file's path relative to the sidecar."""
    data = _lists(scene.model_dump(by_alias=True, exclude_none=True))
    data["dream"] = {**_lists(DREAM_DEFAULTS.model_dump()), **data["dream"]}
    data["motion"] = {**_lists(MOTION_DEFAULTS.model_dump()), **data["motion"]}
    if scene.deliver:  # every deliverable's output, relative to this sidecar: it stays a scene to render again
        for item in data["deliver"]:
            item["output"] = _relative(scene.file.parent / item["output"], output.parent)
    else:
        data["output"] = output.name
    for path, _, file in scene.inputs():
        _put(data, path, _relative(file, output.parent))
    data["rendered"] = details
    return data


def versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    import torch

    from ..media import ffmpeg

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
        "ffmpeg": ffmpeg.version(),
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
    again = f"python render.py {shlex.quote(str(path))}"
    text = "# Written by dreamzoom: the scene exactly as rendered. Render it again with\n"
    text += (f"#   {again} --overwrite   (every deliverable, in place)\n" if scene.deliver else
             f"#   {again} --out AGAIN.mp4   (or --overwrite: in place)\n")
    text += yaml.safe_dump(sidecar_data(scene, output, details), sort_keys=False, allow_unicode=True)
    temp = path.with_name(path.name + ".part")
    temp.write_text(text)
    os.replace(temp, path)
    return path


def differences(old: dict, new: dict, prefix: str = "") -> list[str]:
    """Dotted names of what differs between two fact trees, e.g. ['precision', 'scene.dream.step']."""
    found = []
    for key in sorted(set(old) | set(new), key=str):
        a, b, name = old.get(key), new.get(key), f"{prefix}{key}"
        if isinstance(a, dict) and isinstance(b, dict):
            found += differences(a, b, f"{name}.")
        elif a != b:
            found.append(name)
    return found


def read_sidecar(output: Path) -> dict | None:
    """The data of `output`'s sidecar, or None when there is none that can be read."""
    try:
        data = yaml.safe_load(sidecar_path(output).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("rendered"), dict) else None


def changes_since(scene: Scene, output: Path, preview: bool, size: tuple[int, int], frames: range) -> list[str] | None:
    """What differs between the render `output`'s sidecar records and the one now asked for, as
    dotted names (['dream.step', 'inputs.logo.png']; [] when nothing does); None when there is no
    sidecar to compare with."""
    from ..media.files import file_hash

    recorded = read_sidecar(output)
    if recorded is None:
        return None
    rendered = recorded.pop("rendered")
    now = sidecar_data(scene, output, {})
    now.pop("rendered")
    changed = differences(recorded, now)
    asked = {"preview": preview, "size": list(size), "frames": [frames.start, frames.stop - 1]}
    changed += [key for key, value in asked.items() if rendered.get(key) != value]
    if isinstance(rendered.get("inputs"), dict):  # sidecars of earlier releases have no hashes
        try:
            inputs = {os.path.relpath(path, scene.file.parent): file_hash(path) for path in scene.input_files()}
        except OSError:
            inputs = {}
        changed += [f"inputs.{name}" for name in differences(rendered["inputs"], inputs)]
    return changed
