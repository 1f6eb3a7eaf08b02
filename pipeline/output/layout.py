"""Where a render keeps its files: the output, its sidecar, the partial video it writes until it is
complete, the work folder (pieces and checkpoint), the lock, the analysis cache. Every path a
render may write is named here, so nothing that is not the render's own is ever touched."""

from __future__ import annotations

from pathlib import Path

from ..scene import Scene


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


def clash_with_inputs(scene: Scene, output: Path) -> str | None:
    """Why rendering to `output` would replace or delete a file the render reads: a file the
    render writes (the output, its sidecar, its partial video, its work folder, its lock) is an
    input or the scene itself, or the output or work folder holds one. Checked for the output
    actually used, so a sidecar stays a loadable scene."""
    own = {what: path.resolve() for what, path in own_paths(output).items()}
    for source in [scene.file] * scene.file.exists() + scene.input_files():  # from_data: no file
        source = source.resolve()
        for what, path in own.items():
            if source == path:
                return f"{what} {path.name} would replace {source}, which this render reads: choose another output name"
        for folder in (own["the output"], own["the work folder"]):
            if folder in source.parents:
                return f"the folder {folder} holds {source.name}, which this render reads: choose another output"
    return None
