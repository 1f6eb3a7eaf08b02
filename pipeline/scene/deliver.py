"""The geometry of deliverables, as plain numbers: how large a crop of the dream canvas each one
shows, and the canvas that holds them all. Pure, imports nothing of the scene's models.

The crop rule: a crop written as `crop: [w, h]` is used as it is (the checks refuse one larger
than the canvas); otherwise a deliverable shows its own size in canvas pixels where the canvas
holds it (no resampling), else the largest rect of its shape that fits, resampled to its size.
"""

from __future__ import annotations


def fitted(size: tuple[int, int], canvas: tuple[int, int]) -> tuple[int, int]:
    """The largest rect of `size`'s shape inside `canvas`, in whole pixels."""
    scale = min(canvas[0] / size[0], canvas[1] / size[1])
    return (max(1, min(canvas[0], round(size[0] * scale))), max(1, min(canvas[1], round(size[1] * scale))))


def crop_for(size: tuple[int, int] | None, canvas: tuple[int, int],
             crop: tuple[int, int] | None = None) -> tuple[int, int]:
    """The canvas pixels (w, h) a deliverable of `size` shows (see the module's rule)."""
    if crop is not None:
        return tuple(crop)
    if size[0] <= canvas[0] and size[1] <= canvas[1]:
        return tuple(size)
    return fitted(size, canvas)


def canvas_for(items: list[tuple[tuple[int, int], tuple[int, int] | None]]) -> tuple[int, int]:
    """The smallest canvas holding every (size, crop) deliverable's crop at full resolution."""
    crops = [tuple(crop) if crop is not None else tuple(size) for size, crop in items]
    return max(w for w, _ in crops), max(h for _, h in crops)


def placed(focus: tuple[float, float], crop: tuple[int, int], canvas: tuple[int, int]) -> tuple[int, int, bool]:
    """(left, top, clamped): the whole-pixel corner of a crop centred on `focus` (fractions of the
    canvas), moved back inside the canvas where it would leave it (clamped: it was)."""
    corner = []
    clamped = False
    for f, c, side in zip(focus, crop, canvas):
        wanted = f * side - c / 2
        inside = min(max(wanted, 0.0), float(side - c))
        clamped |= abs(inside - wanted) >= 0.5
        corner.append(round(inside))
    return corner[0], corner[1], clamped
