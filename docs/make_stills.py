"""Make the README's pictures from real renders.

    python docs/make_stills.py frames scenes/renders/logo.mp4   # -> docs/logo-frames.png
    python render.py atlas scenes/logo.png --out docs/aliases.png
"""

from __future__ import annotations

import sys
from pathlib import Path

import imageio.v3 as iio
from PIL import Image

from pipeline.output.sheets import contact_sheet, save_atomically

HERE = Path(__file__).resolve().parent


def frames_sheet(video: Path, picks=(0, 75, 149, 200, 250, 299)) -> Image.Image:
    frames = iio.imread(video)
    return contact_sheet([(f"frame {n}", Image.fromarray(frames[n])) for n in picks], columns=3)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "frames":
        sys.exit(__doc__)
    save_atomically(frames_sheet(Path(sys.argv[2])), HERE / "logo-frames.png")
