"""Make the pictures of the README and the docs from real renders.

    python docs/make_stills.py frames scenes/renders/logo.mp4   # -> docs/logo-frames.png
    python docs/make_stills.py gif scenes/renders/logo.mp4      # -> docs/logo.gif
    python docs/make_stills.py turntable scenes/renders/turntable.mp4   # -> docs/turntable-frames.png
    python docs/make_stills.py tagline scenes/renders/tagline.mp4       # -> docs/tagline-frames.png
    python docs/make_stills.py campaign scenes/renders/campaign-youtube.mp4 scenes/renders/campaign-reels.mp4 \
        scenes/renders/campaign-square.mp4                              # -> docs/campaign-frames.png
    python docs/make_stills.py colour BEFORE.mp4 AFTER.mp4   # -> docs/colour-frames.png (two renders, one a row)
    python render.py atlas scenes/logo.png --out docs/aliases.png
"""

from __future__ import annotations

import sys
from pathlib import Path

import imageio.v3 as iio
from PIL import Image

from pipeline.media import ffmpeg
from pipeline.output.sheets import contact_sheet, save_atomically

HERE = Path(__file__).resolve().parent
GIF_WIDTH, GIF_FPS = 240, 6  # small enough for a README (under 2 MB): every fifth frame of a 30 fps video


SHEET_TILE_WIDTH = 480  # a full-size render's frames shrunk to a README picture


def frames_sheet(video: Path, picks=(0, 45, 100, 160, 230, 299)) -> Image.Image:
    tiles = []
    for n, pixels in enumerate(iio.imiter(video)):  # front to back: a full-size video need not fit in memory
        if n > max(picks):
            break
        if n not in picks:
            continue
        frame = Image.fromarray(pixels)
        if frame.width > SHEET_TILE_WIDTH:
            height = round(frame.height * SHEET_TILE_WIDTH / frame.width)
            frame = frame.resize((SHEET_TILE_WIDTH, height), Image.LANCZOS)
        tiles.append((f"frame {n}", frame))
    return contact_sheet(tiles, columns=3)


def picked_frames(video: Path, picks) -> dict[int, Image.Image]:
    """Frames `picks` of a video, read front to back (a full-size video need not fit in memory)."""
    found = {}
    for n, pixels in enumerate(iio.imiter(video)):
        if n > max(picks):
            break
        if n in picks:
            found[n] = Image.fromarray(pixels)
    return found


def colour_sheet(before: Path, after: Path, picks=(0, 50, 100, 150, 190)) -> Image.Image:
    """The same frames of two renders of a scene, one a row: how colour matching changes what the
    loop keeps of the start picture's colours."""
    tiles = []
    for name, video in (("before", before), ("after", after)):
        frames = picked_frames(video, picks)
        tiles += [(f"{name}, frame {n}", frames[n]) for n in picks]
    return contact_sheet(tiles, columns=len(picks))


def turntable_sheet(video: Path, picks=(12, 48, 90)) -> Image.Image:
    """The clip (scenes/turntable.mp4, top row) and its dream (bottom row), at the render's size."""
    dreamed = iio.imread(video)
    clip = [Image.fromarray(frame).resize(dreamed.shape[2:0:-1], Image.LANCZOS)
            for frame in iio.imread(HERE.parent / "scenes" / "turntable.mp4")]
    return contact_sheet([(f"clip {n}", clip[n]) for n in picks] + [(f"dream {n}", Image.fromarray(dreamed[n]))
                                                                    for n in picks], columns=len(picks))


def side_by_side(videos: list[Path], gap: int = 12) -> Image.Image:
    """Each video's first frame at its own size, side by side on a dark ground: a campaign's formats."""
    firsts = [Image.fromarray(next(iio.imiter(video))) for video in videos]
    width = sum(f.width for f in firsts) + gap * (len(firsts) + 1)
    height = max(f.height for f in firsts) + 2 * gap
    sheet, left = Image.new("RGB", (width, height), (22, 22, 28)), gap
    for first in firsts:
        sheet.paste(first, (left, (height - first.height) // 2))
        left += first.width + gap
    return sheet.quantize(256)  # a README picture: a palette keeps it small


def gif(video: Path, target: Path) -> None:
    """The video at GIF_WIDTH px and GIF_FPS frames a second, with one palette of 128 colours made for it."""
    scaled = f"fps={GIF_FPS},scale={GIF_WIDTH}:-2:flags=lanczos"
    ffmpeg.run("-i", video, "-filter_complex",
               f"[0:v]{scaled},split[a][b];[a]palettegen=max_colors=128:stats_mode=diff[p];"
               "[b][p]paletteuse=dither=bayer:bayer_scale=5", target)


if __name__ == "__main__":
    if sys.argv[1:2] == ["campaign"] and len(sys.argv) > 2:
        save_atomically(side_by_side([Path(video) for video in sys.argv[2:]]), HERE / "campaign-frames.png")
    elif sys.argv[1:2] == ["colour"] and len(sys.argv) == 4:
        save_atomically(colour_sheet(Path(sys.argv[2]), Path(sys.argv[3])), HERE / "colour-frames.png")
    elif len(sys.argv) != 3 or sys.argv[1] not in ("frames", "gif", "turntable", "tagline"):
        sys.exit(__doc__)
    elif sys.argv[1] == "frames":
        save_atomically(frames_sheet(Path(sys.argv[2])), HERE / "logo-frames.png")
    elif sys.argv[1] == "tagline":  # the tagline showing, the pull back, the logo with its call to action
        save_atomically(frames_sheet(Path(sys.argv[2]), picks=(20, 50, 80, 105, 130, 149)),
                        HERE / "tagline-frames.png")
    elif sys.argv[1] == "turntable":
        save_atomically(turntable_sheet(Path(sys.argv[2])), HERE / "turntable-frames.png")
    else:
        gif(Path(sys.argv[2]), HERE / "logo.gif")
