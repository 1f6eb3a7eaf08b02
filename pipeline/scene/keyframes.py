"""Keyframed values: a constant, or {frame: value} interpolated between keys.

Values are numbers or fixed-length vectors (e.g. translate [dx, dy]). Before
the first key the first value holds, after the last key the last one does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Union

Value = Union[float, tuple[float, ...]]

EASES = {
    "linear": lambda t: t,
    "smooth": lambda t: t * t * (3.0 - 2.0 * t),  # ease in and out
    "hold": lambda t: 0.0,  # jump at each key
}


@dataclass(frozen=True)
class Track:
    points: tuple[tuple[int, Value], ...]  # sorted by frame, at least one
    ease: str = "linear"
    landed: tuple[tuple[str, int], ...] = field(default=(), compare=False)  # keys written as times: (key, frame)

    @classmethod
    def constant(cls, value: Value) -> "Track":
        return cls(((0, value),))

    @property
    def is_constant(self) -> bool:
        return len(self.points) == 1

    @property
    def frames(self) -> list[int]:
        return [frame for frame, _ in self.points]

    def at(self, frame: float) -> Value:
        """The value at `frame`, eased between the surrounding keys."""
        first_frame, first = self.points[0]
        if frame <= first_frame:
            return first
        for (f0, v0), (f1, v1) in zip(self.points, self.points[1:]):
            if frame < f1:
                t = EASES[self.ease]((frame - f0) / (f1 - f0))
                return mix(v0, v1, t)
        return self.points[-1][1]

    def map(self, fn: Callable[[Value], Value]) -> "Track":
        """The same keys with every value passed through `fn`."""
        return Track(tuple((f, fn(v)) for f, v in self.points), self.ease, self.landed)

    def plain(self):
        """As a person writes it in YAML: the constant, or {frame: value, ..., ease}."""
        def value(v):
            return list(v) if isinstance(v, tuple) else v

        if self.is_constant:
            return value(self.points[0][1])
        keys = {frame: value(v) for frame, v in self.points}
        return keys if self.ease == "linear" else {**keys, "ease": self.ease}

    def describe(self) -> str:
        def show(v):
            return f"[{', '.join(f'{c:g}' for c in v)}]" if isinstance(v, tuple) else f"{v:g}"

        if self.is_constant:
            return show(self.points[0][1])
        keys = ", ".join(f"{f}: {show(v)}" for f, v in self.points)
        ease = "" if self.ease == "linear" else f", ease: {self.ease}"
        return "{" + keys + ease + "}"


def mix(a: Value, b: Value, t: float) -> Value:
    """a + (b - a) * t, for numbers and vectors."""
    if isinstance(a, tuple):
        return tuple(x + (y - x) * t for x, y in zip(a, b))
    return a + (b - a) * t
