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


def deliveries_base(scene: Scene) -> Path:
    """What a scene with `deliver:` renders under as a whole: `FIRST.deliver`, FIRST being its first
    deliverable's output (renders/campaign-youtube.mp4.deliver), so two renders that would write the
    same files meet at one lock, and variants named apart do not. Its lock (`.FIRST.deliver.lock`)
    covers every deliverable; its work folder (`.FIRST.deliver.work/`) holds one checkpoint and each
    deliverable's pieces in a folder named by its index (`0/`, `1/`, ...)."""
    first = scene.output_paths[0]
    return first.with_name(f"{first.name}.deliver")


def deliver_work_dir(scene: Scene) -> Path:
    """The one work folder of a scene with `deliver:`: its checkpoint and every deliverable's pieces."""
    return work_dir(deliveries_base(scene))


def deliver_lock_path(scene: Scene) -> Path:
    """The one lock of a scene with `deliver:`, held while any of its deliverables is written."""
    return lock_path(deliveries_base(scene))


def cache_dir(output: Path) -> Path:
    """Where analyses worth keeping between renders (a sound track's) are cached, beside the output."""
    return output.with_name(".dreamzoom-cache")


def clash_with_inputs(scene: Scene, output: Path) -> str | None:
    """Why rendering to `output` would replace or delete a file the render reads: a file the
    render writes (the output, its sidecar, its partial video, its work folder, its lock) is an
    input or the scene itself, or the output or work folder holds one. Checked for the output
    actually used, so a sidecar stays a loadable scene; a sidecar rendered again to its own output
    (or as one of its campaign's deliverables) is rewritten, not a clash. With `deliver:`, every
    deliverable's paths and the shared work folder and lock count too, and no deliverable's output
    may be another's partial video."""
    own = {what: path.resolve() for what, path in own_paths(output).items()}
    outputs = [output]
    if scene.deliver and output in scene.output_paths:
        outputs = scene.output_paths
        for index, path in enumerate(outputs):
            own.update({f"{what} of deliver.{index}": p.resolve() for what, p in own_paths(path).items()})
        own["the work folder"] = deliver_work_dir(scene).resolve()
        own["the lock"] = deliver_lock_path(scene).resolve()
        for index, path in enumerate(outputs):  # one deliverable's output is not another's partial video
            for other, each in enumerate(outputs):
                for what, p in own_paths(each).items():
                    if other != index and p.resolve() == path.resolve():
                        return (f"deliver.{index}'s output {path.name} is {what} of deliver.{other}: give each "
                                "deliverable a name of its own")
    # A sidecar rendered again to its own output: the render writes it anew, the same scene
    rewritten = {sidecar_path(o).resolve() for o in outputs} & {scene.file.resolve()} if scene.rendered else set()
    for source in [scene.file] * scene.file.exists() + scene.input_files():  # from_data: no file
        source = source.resolve()
        for what, path in own.items():
            if source == path and path not in rewritten:
                return f"{what} {path.name} would replace {source}, which this render reads: choose another output name"
        for folder in (own["the output"], own["the work folder"]):
            if folder in source.parents:
                return f"the folder {folder} holds {source.name}, which this render reads: choose another output"
    return None
