"""Formulas: a keyframable number (or an objective weight) written as an expression of time,
such as `rotate: "2 * sin(2 * pi * t / 4)"` or `zoom: "1.01 + 0.02 * square(beat)"`.

A formula is evaluated by simpleeval (a safe evaluator: never Python's eval) over every
frame of the video at once, as numpy arrays, while the scene is validated: a syntax error,
an unknown name, a call that is not allowed, or a value that is not finite or out of bounds
at any frame is reported with the field's line before any work starts. Audio features
(`zoom: "1 + 0.05 * onset"`) are names too: a formula that reads them is evaluated once the
sound track has been analysed, which validates the scene again. Its syntax is
limited to arithmetic, names and calls of the functions below; long expressions and huge
exponents are refused, not computed.
"""

from __future__ import annotations

import ast
import difflib
import math
import operator
from dataclasses import dataclass, field
from functools import reduce
from typing import Any

import numpy as np

from ..media.audio import FEATURES

MAX_LENGTH = 500  # characters: a formula is a line of arithmetic
MAX_EXPONENT = 64  # larger powers only overflow (or take forever on integers)


def _saw(x):
    return x - np.floor(x)


def _smoothstep(edge0, edge1, x):
    u = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return u * u * (3.0 - 2.0 * u)


def _min(first, *others):
    return reduce(np.minimum, others, first)


def _max(first, *others):
    return reduce(np.maximum, others, first)


def _clamp(x, lo, hi):
    return np.clip(x, lo, hi)


def _lerp(a, b, u):
    return a + (b - a) * u


def _tri(x):
    return 1.0 - np.abs(2.0 * _saw(x) - 1.0)  # 0 -> 1 -> 0 over each period


def _square(x):
    return np.where(_saw(x) < 0.5, 1.0, 0.0)  # 1 for the first half of each period, then 0


FUNCTIONS = {
    "sin": np.sin, "cos": np.cos, "abs": np.abs, "floor": np.floor, "min": _min, "max": _max,
    "clamp": _clamp, "lerp": _lerp, "smoothstep": _smoothstep, "saw": _saw, "tri": _tri, "square": _square,
}
CONSTANTS = {"pi": math.pi}
TIME_NAMES = ("t", "frame", "beat", "fps")  # seconds since the start, frame number, beats since beat_offset
AUDIO_NAMES = FEATURES  # the sound track's features, 0..1 (media/audio.py)


def _power(base, exponent):
    if np.max(np.abs(exponent)) > MAX_EXPONENT:
        raise ValueError(f"an exponent above {MAX_EXPONENT} is refused")
    return np.power(np.asarray(base, dtype=float), exponent)


OPERATORS = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.Mod: np.mod, ast.Pow: _power, ast.USub: operator.neg, ast.UAdd: operator.pos,
}
_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Call, ast.Name, ast.Constant, ast.Load,
          *OPERATORS)


def _choices(what: str, allowed, suggestion: str | None) -> str:
    """'; did you mean x? (names: a, b)' or '; names: a, b': what may be written instead."""
    listed = f"{what}: {', '.join(allowed)}"
    return f"; did you mean {suggestion}? ({listed})" if suggestion else f"; {listed}"


def check_syntax(source: str, names: tuple[str, ...]) -> None:
    """ValueError unless `source` is arithmetic over `names`, the constants and the functions."""
    if len(source) > MAX_LENGTH:
        raise ValueError(f"the expression is {len(source)} characters long; at most {MAX_LENGTH}")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as error:
        raise ValueError(f"expression {source!r}: syntax error at character {error.offset or 0}") from None
    known = [*names, *CONSTANTS]
    for node in ast.walk(tree):
        if not isinstance(node, _NODES):
            raise ValueError(f"expression {source!r}: {type(node).__name__.lower()} is not allowed; write "
                             "arithmetic (+ - * / % **) of numbers, names and functions")
        if isinstance(node, ast.Constant) and (isinstance(node.value, bool) or
                                               not isinstance(node.value, (int, float))):
            raise ValueError(f"expression {source!r}: only numbers, not {node.value!r}")
        if isinstance(node, ast.Constant) and not math.isfinite(_as_float(node.value)):
            raise ValueError(f"expression {source!r}: a number too large for arithmetic")
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", None)
            if name not in FUNCTIONS or node.keywords:
                close = difflib.get_close_matches(str(name), list(FUNCTIONS), n=1)
                raise ValueError(f"expression {source!r}: {name or 'this'}() is not a function here"
                                 + _choices("functions", FUNCTIONS, close and f"{close[0]}()"))
        elif isinstance(node, ast.Name) and node.id not in known and node.id not in FUNCTIONS:
            close = difflib.get_close_matches(node.id, known, n=1)
            raise ValueError(f"expression {source!r}: unknown name '{node.id}'"
                             + _choices("names", known, close and f"'{close[0]}'"))
        elif isinstance(node, ast.Name) and node.id in FUNCTIONS and not _called(tree, node):
            raise ValueError(f"expression {source!r}: {node.id} is a function: write {node.id}(...)")


def _as_float(number: int | float) -> float:
    try:
        return float(number)
    except OverflowError:
        return math.inf


def _called(tree: ast.AST, name: ast.Name) -> bool:
    return any(isinstance(n, ast.Call) and n.func is name for n in ast.walk(tree))


def evaluate(source: str, variables: dict[str, Any], count: int) -> np.ndarray:
    """The formula's value at each of `count` frames (variables are arrays over them)."""
    from simpleeval import SimpleEval

    evaluator = SimpleEval(operators=OPERATORS, functions=FUNCTIONS, names={**CONSTANTS, **variables})
    with np.errstate(all="ignore"):  # NaN and infinity are found below, by frame
        try:
            value = evaluator.eval(source.strip())
        except ZeroDivisionError:
            value = np.inf
        except (TypeError, ValueError, OverflowError) as error:
            raise ValueError(f"expression {source!r}: {str(error).lstrip('_')}") from None
    return np.broadcast_to(np.asarray(value, dtype=float), (count,))


@dataclass(frozen=True)
class Formula:
    """A keyframable value given as expressions (per component for a vector), evaluated at every frame."""

    components: tuple[str | float, ...]
    vector: bool = False
    values: Any = field(default=None, compare=False, repr=False)  # (frames, components) float64

    is_constant = False  # read like a Track's: no keys, nothing landed
    frames = ()
    landed = ()

    def at(self, frame: float):
        if self.values is None:
            raise RuntimeError("this formula waits for the sound track's analysis: scene.audio.analysed(scene)")
        row = self.values[min(int(frame), len(self.values) - 1)]
        return tuple(float(v) for v in row) if self.vector else float(row[0])

    def plain(self):
        return list(self.components) if self.vector else self.components[0]

    def describe(self) -> str:
        return repr(self.plain())


def formula(components: tuple[str | float, ...], vector: bool, timing, bounds: dict) -> Formula:
    """Check and evaluate a formula over the scene's frames; ValueError naming the first bad frame.
    One that reads the sound track (or beats of bpm: auto) before its analysis is checked but left
    unevaluated, its names noted in `timing.awaiting`: the analysis validates the scene again."""
    sources = [c for c in components if isinstance(c, str)]
    for source in sources:
        check_syntax(source, TIME_NAMES + AUDIO_NAMES)
    used = set().union(*(_names(source) for source in sources))
    audio = sorted(used & set(AUDIO_NAMES))
    if audio and not timing.has_audio:
        raise ValueError(f"'{audio[0]}' is a feature of the sound track: set audio (a sound file) at the top "
                         "of the scene")
    if "beat" in used and timing.bpm is None:
        raise ValueError("this expression counts beats: set bpm (beats per minute) at the top of the scene")
    waiting = set(audio) if timing.features is None else set()
    if "beat" in used and timing.provisional:
        waiting.add("beat")
    if waiting:
        timing.awaiting.update(waiting)
        return Formula(tuple(components), vector)
    count = max(1, timing.frame_count or 1)
    frame = np.arange(count, dtype=float)
    t = frame / timing.fps
    variables = {"t": t, "frame": frame, "fps": timing.fps, **{name: timing.features[name] for name in audio},
                 "beat": (t - timing.beat_offset) * (timing.bpm or 0) / 60.0}
    columns = []
    for component in components:
        if isinstance(component, str):
            values = evaluate(component, variables, count)
        else:
            values = np.full(count, float(component))
        _check_values(values, component, t, bounds)
        columns.append(values)
    return Formula(tuple(components), vector, np.stack(columns, axis=1))


def _names(source: str) -> set[str]:
    try:
        return {n.id for n in ast.walk(ast.parse(source.strip(), mode="eval")) if isinstance(n, ast.Name)}
    except SyntaxError:
        return set()


def _check_values(values: np.ndarray, source, t: np.ndarray, bounds: dict) -> None:
    """ValueError at the first frame whose value is not finite or out of `bounds` (ge, gt, le)."""
    problems = [(~np.isfinite(values), "is not a finite number")]
    if bounds.get("ge") is not None:
        problems.append((values < bounds["ge"], f"is below the minimum {bounds['ge']:g}"))
    if bounds.get("gt") is not None:
        problems.append((values <= bounds["gt"], f"must be above {bounds['gt']:g}"))
    if bounds.get("le") is not None:
        problems.append((values > bounds["le"], f"is above the maximum {bounds['le']:g}"))
    for bad, what in problems:
        if bad.any():
            frame = int(np.argmax(bad))
            raise ValueError(f"expression {source!r} {what} at frame {frame} (t = {t[frame]:g} s): "
                             f"it gives {values[frame]:g}")
