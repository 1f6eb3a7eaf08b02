"""How a finished video looks, in numbers: what `check VIDEO` reports per sixth of the video.

Pure functions on (H, W, 3) uint8 RGB frames, plus a frame reader for every
format a render writes. The figures catch what makes a zoom video look worn:
blown or crushed pixels, detail that softens away, one or two hues only,
flicker, and colours that drift from the start.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable, Iterator

import cv2
import numpy as np

CLIP_LOW, CLIP_HIGH = 3, 252  # a channel at or beyond these is crushed or blown
HUE_BINS, HUE_SATURATION = 18, 60  # hue histogram of pixels with saturation above this (of 255)
PARTS = 6

MAX_CLIPPED = 0.05  # share of pixels
MIN_DETAIL_KEPT = 0.70  # the last sixth's detail against the second sixth's
MIN_HUE_BITS = 2.5
MAX_FLICKER = 12.0  # mean absolute change of a pixel channel between frames, of 255
MAX_DRIFT = 25.0  # distance of the LAB mean from the first frame's (about one clearly visible step)


def clipped(frame: np.ndarray) -> float:
    """Share of pixels with a channel crushed (<= 3) or blown (>= 252)."""
    return float(((frame <= CLIP_LOW) | (frame >= CLIP_HIGH)).any(axis=2).mean())


def detail(frame: np.ndarray) -> float:
    """Variance of the Laplacian of the grey frame: high for crisp texture, low for soft."""
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def hue_spread(frame: np.ndarray) -> float:
    """Entropy in bits of an 18-bin hue histogram of the saturated pixels: 0 for one hue,
    log2(18) = 4.17 for all hues alike; 0 when nothing is saturated."""
    hsv = cv2.cvtColor(frame, cv2.COLOR_RGB2HSV)  # hue 0..179, saturation 0..255
    hues = hsv[..., 0][hsv[..., 1] > HUE_SATURATION]
    if hues.size == 0:
        return 0.0
    counts = np.bincount((hues.astype(np.int32) * HUE_BINS) // 180, minlength=HUE_BINS)
    p = counts[counts > 0] / hues.size
    return float(-(p * np.log2(p)).sum())


def lab_mean(frame: np.ndarray) -> np.ndarray:
    """Mean colour in CIE LAB (L 0..100), where distances match what the eye sees."""
    lab = cv2.cvtColor(frame.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    return lab.reshape(-1, 3).mean(axis=0)


def compensate(previous: np.ndarray, zoom: float = 1.0, rotate: float = 0.0,
               translate: tuple[float, float] = (0.0, 0.0), center: tuple[float, float] = (0.5, 0.5)) -> np.ndarray:
    """The previous frame moved as the camera moved (zoom about `center`, rotate in degrees
    counter-clockwise, translate in pixels), so only what the dream changed remains to compare."""
    if zoom == 1.0 and rotate == 0.0 and translate == (0.0, 0.0):
        return previous
    height, width = previous.shape[:2]
    pivot = (center[0] * width - 0.5, center[1] * height - 0.5)
    matrix = cv2.getRotationMatrix2D(pivot, rotate, zoom)
    matrix[:, 2] += translate
    return cv2.warpAffine(previous, matrix, (width, height), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REFLECT_101)


def flicker(previous: np.ndarray, frame: np.ndarray) -> float:
    """Mean absolute difference of two frames, 0..255."""
    return float(cv2.absdiff(previous, frame).mean())


@dataclass
class Part:
    """One sixth of a video: its frames and its figures, averaged over them."""

    first: int
    last: int
    clipped: float
    detail: float
    hue_bits: float
    flicker: float | None  # None: no two frames to compare
    drift: float


@dataclass
class Report:
    frames: int
    width: int
    height: int
    parts: list[Part]
    warnings: list[str]

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class FrameFigures:
    """One frame's figures: what `measure` averages per sixth."""

    clipped: float
    detail: float
    hue_bits: float
    flicker: float | None  # None: the first frame, or a frame of another size than the one before
    drift: float


def per_frame(frames: Iterable[np.ndarray], motion=None) -> Iterator[FrameFigures]:
    """The figures of each frame in turn (drift against the first frame's LAB mean). `motion(i)` gives the
    camera move that made frame i from frame i - 1 (zoom, rotate, translate, center), or None: a plain
    difference."""
    first_lab, previous = None, None
    for index, frame in enumerate(frames):
        lab = lab_mean(frame)
        first_lab = lab if first_lab is None else first_lab
        change = None
        if previous is not None and previous.shape == frame.shape:
            move = motion(index) if motion else None
            moved = compensate(previous, *move) if move else previous
            change = flicker(moved, frame)
        yield FrameFigures(clipped(frame), detail(frame), hue_spread(frame), change,
                           float(np.linalg.norm(lab - first_lab)))
        previous = frame


def measure(frames: Iterable[np.ndarray], motion=None) -> Report:
    """The figures of every frame (see per_frame), averaged per sixth."""
    size = (0, 0)

    def sized(frames):
        nonlocal size
        for frame in frames:
            size = (frame.shape[1], frame.shape[0])
            yield frame

    rows = list(per_frame(sized(frames), motion))
    if not rows:
        raise ValueError("it holds no frames")
    parts = []
    for chunk in np.array_split(np.arange(len(rows)), min(PARTS, len(rows))):
        picked = [rows[i] for i in chunk]
        changes = [r.flicker for r in picked if r.flicker is not None]
        parts.append(Part(int(chunk[0]), int(chunk[-1]), *(float(np.mean([getattr(r, k) for r in picked]))
                                                           for k in ("clipped", "detail", "hue_bits")),
                          float(np.mean(changes)) if changes else None, float(np.mean([r.drift for r in picked]))))
    return Report(len(rows), size[0], size[1], parts, warnings(parts))


def _where(parts: list[Part], bad, start: int = 0) -> str:
    """'sixth 3' or 'sixths 2-4, 6': the parts from `start` on for which `bad` holds."""
    numbers = [n for n, part in enumerate(parts, 1) if n > start and bad(part)]
    runs: list[list[int]] = []
    for n in numbers:
        if runs and runs[-1][-1] == n - 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    kind = "sixth" if len(parts) == PARTS else "part"
    shown = ", ".join(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]) for run in runs)
    return f"{kind}{'s' if len(numbers) > 1 else ''} {shown}"


def warnings(parts: list[Part]) -> list[str]:
    """Plain words for each figure out of bounds. The first sixth is mostly the start picture, which
    may rightly be plain or clipped (white paper, a logo): the look is judged from the second on."""
    start = 1 if len(parts) > 1 else 0
    later = parts[start:]
    out = []
    worst = max(p.clipped for p in later)
    if worst > MAX_CLIPPED:
        where = _where(parts, lambda p: p.clipped > MAX_CLIPPED, start)
        out.append(f"clipped: up to {worst:.0%} of pixels crushed to black or blown to white ({where}); "
                   f"over {MAX_CLIPPED:.0%} looks harsh")
    if len(parts) > 2 and parts[1].detail > 0 and parts[-1].detail < MIN_DETAIL_KEPT * parts[1].detail:
        out.append(f"detail: the end keeps {parts[-1].detail / parts[1].detail:.0%} of the second part's detail "
                   f"(under {MIN_DETAIL_KEPT:.0%}): the video softens as it goes")
    poorest = min(p.hue_bits for p in later)
    if poorest < MIN_HUE_BITS:
        where = _where(parts, lambda p: p.hue_bits < MIN_HUE_BITS, start)
        out.append(f"hue spread: down to {poorest:.1f} bits ({where}); under {MIN_HUE_BITS} looks monotonous, "
                   "one or two colours")
    changes = [p.flicker for p in parts if p.flicker is not None]
    if changes and max(changes) > MAX_FLICKER:
        where = _where(parts, lambda p: p.flicker is not None and p.flicker > MAX_FLICKER)
        out.append(f"flicker: pixels change by up to {max(changes):.0f} of 255 from frame to frame ({where}); "
                   f"over {MAX_FLICKER:.0f} flickers")
    if parts[-1].drift > MAX_DRIFT:
        out.append(f"colour drift: by the end the mean colour is {parts[-1].drift:.0f} (LAB) from the first "
                   f"frame's; over {MAX_DRIFT:.0f} it wanders off")
    return out


def read_frames(path: Path) -> Iterator[np.ndarray]:
    """Every frame of a video file (or of a PNG-sequence folder), one at a time, as RGB uint8.
    GIF and WebP are read with Pillow (ffmpeg cannot decode animated WebP); the rest with ffmpeg."""
    path = Path(path)
    if path.is_dir():
        names = sorted(path.glob("*.png"))
        if not names:
            raise ValueError("the folder holds no PNG frames")
        for name in names:
            yield _pillow_rgb(name)
        return
    if path.suffix.lower() in (".gif", ".webp"):
        from PIL import Image, ImageSequence

        with Image.open(path) as image:
            for frame in ImageSequence.Iterator(image):
                yield np.asarray(frame.convert("RGB"))
        return
    from ..media import ffmpeg

    yield from ffmpeg.frames(path)


def _pillow_rgb(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def table(report: Report) -> str:
    """The figures as a table, one row per sixth."""
    rows = [("part", "frames", "clipped", "detail", "hue bits", "flicker", "drift")]
    for n, p in enumerate(report.parts, 1):
        rows.append((f"{n}/{len(report.parts)}", f"{p.first}-{p.last}", f"{p.clipped:.1%}", f"{p.detail:.0f}",
                     f"{p.hue_bits:.2f}", "-" if p.flicker is None else f"{p.flicker:.1f}", f"{p.drift:.1f}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip()
                     for row in rows)

