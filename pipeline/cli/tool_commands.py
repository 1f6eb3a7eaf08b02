"""`layers [MODEL]` and `atlas IMAGE`: see what a model's layers dream before choosing;
`schema`: the scene format for editors and the docs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..output.sidecar import invoked_as
from .outcome import EXIT_BAD_INPUT, EXIT_OK


def layers_command(argv) -> int:
    from ..tools.atlas import layer_table, model_list
    from ..models.zoo import ZOO

    parser = argparse.ArgumentParser(prog=f"{invoked_as()} layers", description="List a model's layers and aliases.")
    parser.add_argument("model", nargs="?", default="inception_v3", help="a model name (default inception_v3)")
    args = parser.parse_args(argv)
    if args.model not in ZOO:
        print(f"unknown model '{args.model}'. Available:\n{model_list()}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(layer_table(ZOO[args.model]))
    print()
    print(model_list())
    return EXIT_OK


def atlas_command(argv) -> int:
    from ..models.zoo import ZOO

    parser = argparse.ArgumentParser(
        prog=f"{invoked_as()} atlas", description="Dream one image at each alias (or layer) into one labelled PNG."
    )
    parser.add_argument("image", type=Path)
    parser.add_argument("--model", default="inception_v3", choices=list(ZOO))
    parser.add_argument("--out", type=Path, help="the PNG to write (default IMAGE_MODEL_atlas.png here)")
    parser.add_argument("--all-layers", action="store_true", help="every layer instead of the aliases")
    parser.add_argument("--size", type=int, default=480, help="long side of each tile in pixels (default 480)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    args = parser.parse_args(argv)
    if not args.image.is_file():
        print(f"{args.image}: no such image", file=sys.stderr)
        return EXIT_BAD_INPUT
    out = args.out or Path(f"{args.image.stem}_{args.model}_atlas.png")
    if out.suffix.lower() != ".png":
        print(f"--out {out}: the atlas is a .png", file=sys.stderr)
        return EXIT_BAD_INPUT
    from ..session.devices import pick_device

    try:
        device = pick_device(args.device)
    except ValueError as error:
        print(error, file=sys.stderr)
        return EXIT_BAD_INPUT

    from PIL import UnidentifiedImageError

    from ..dream.runtime import configure_runtime
    from ..output.sheets import save_atomically
    from ..tools.atlas import make_atlas
    from ..models.weights import ModelUnavailable

    configure_runtime()
    try:
        sheet = make_atlas(args.image, args.model, args.all_layers, args.size, device)
    except (UnidentifiedImageError, OSError) as error:
        print(f"{args.image}: cannot read image: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ModelUnavailable as error:
        print(f"model {args.model}: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"Atlas: {save_atomically(sheet, out)}")
    return EXIT_OK


def schema_command(argv) -> int:
    from ..scene.reference import key_reference, schema_text

    parser = argparse.ArgumentParser(
        prog=f"{invoked_as()} schema",
        description="Print the JSON Schema of scene files (for editors), or the key reference as a Markdown table.",
    )
    parser.add_argument("--markdown", action="store_true",
                        help="the key reference table instead (as in docs/reference.md)")
    args = parser.parse_args(argv)
    print(key_reference() if args.markdown else schema_text(), end="\n" if args.markdown else "")
    return EXIT_OK


def presets_command(argv) -> int:
    import json

    from ..scene.presets import PRESETS

    parser = argparse.ArgumentParser(
        prog=f"{invoked_as()} presets",
        description="Print the platform presets: size, frame rates, length, bitrate, sound and the safe area "
                    "(sources in docs/presets.md).",
    )
    parser.add_argument("--json", action="store_true", help="the table as one JSON object, by preset name")
    args = parser.parse_args(argv)
    if args.json:
        return printed(json.dumps({name: preset.as_json() for name, preset in PRESETS.items()}, indent=2))
    rows = [("preset", "size", "fps", "longest", "video", "sound", "loudness", "safe: top right bottom left")]
    for name, p in PRESETS.items():
        rate = f"{p.video_bitrate / 1e6:g} Mbit/s"
        if p.video_bitrate_up_to_30fps is not None:
            rate = f"{p.video_bitrate_up_to_30fps / 1e6:g} (≤30 fps) / {rate}"
        longest = f"{p.max_duration / 3600:g} h" if p.max_duration >= 3600 else f"{p.max_duration:g} s"
        rows.append((name, f"{p.size[0]}x{p.size[1]}", p.fps_text(), longest, rate, f"AAC {p.audio_rate / 1000:g} kHz",
                     f"{p.loudness:g} LUFS, {p.true_peak:g} dBTP", " ".join(f"{m:.0%}" for m in p.safe)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return printed("\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows))


def printed(text: str) -> int:
    """Print `text`; a reader that stops early (`| head`) is not an error."""
    import os

    try:
        print(text, flush=True)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return EXIT_OK
