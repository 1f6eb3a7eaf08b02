"""`--vary`'s grid, NAME.variants.png: the same moments of every variant, one row each, its values
under it. After a render the moments are read from the finished videos; with --storyboard they
are dreamed small and fast (the storyboard's frames) and only the grid is written."""

from __future__ import annotations

import sys
from pathlib import Path

from ..output.sheets import captioned_rows, save_atomically, variants_path
from .outcome import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK


def caption(values: dict) -> str:
    return "  ".join(f"{name} = {value}" for name, value in values.items())


def moments(scene) -> list[int]:
    from ..session.storyboard import storyboard_frames

    return storyboard_frames(scene)


def rendered_tiles(scene, output: Path, picks: list[int], first: int = 0) -> list:
    """The frames at `picks` (timeline numbers) of a finished output that starts at frame `first`."""
    from PIL import Image

    from ..tools.quality import read_frames

    wanted = {pick - first for pick in picks if pick >= first}
    tiles = []
    for index, frame in enumerate(read_frames(output)):
        if index in wanted:
            tiles.append((f"frame {index + first}  {(index + first) / scene.fps:.2f} s", Image.fromarray(frame)))
        if index >= max(wanted, default=-1):
            break
    return tiles


def write_grids(groups: dict[Path, list[tuple[dict, object, Path | None]]], storyboard: bool, device,
                progress: bool) -> int:
    """One grid per base output from its variants (values, scene, output or None when not rendered);
    with `storyboard`, the frames are dreamed here. The exit code of making them."""
    from ..models.weights import ModelUnavailable
    from ..scene.clips import ClipError

    code = EXIT_OK
    for base, variants in groups.items():
        rows = []
        try:
            for values, scene, output in variants:
                if storyboard:
                    from ..session.storyboard import storyboard_tiles

                    tiles = storyboard_tiles(scene, device, progress)
                elif output is not None:
                    tiles = rendered_tiles(scene, output, moments(scene))
                else:
                    continue
                if tiles:
                    rows.append((caption(values), tiles))
        except ModelUnavailable as error:
            print(f"{base}: {error}", file=sys.stderr)
            return EXIT_BAD_INPUT
        except (ClipError, OSError, ValueError) as error:
            print(f"{variants_path(base)}: cannot read the variants' frames: {error}", file=sys.stderr)
            code = EXIT_FAILED
            continue
        except KeyboardInterrupt:
            print("Interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        if not rows:
            continue
        print(f"Variants: {save_atomically(captioned_rows(rows), variants_path(base))}")
    return code
