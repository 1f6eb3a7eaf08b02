"""Value parsers for scene fields: keyframed numbers, durations, objective weights."""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, Strict, WithJsonSchema

from .errors import WithinKey
from .expressions import Formula, formula
from .keyframes import EASES, Track
from .timing import DURATION, MAX_SECONDS, MOMENT_PATTERN, parse_duration, timing_from


def _number(raw: Any, what: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise ValueError(f"{what} must be a number, got {raw!r}")
    try:
        value = float(raw)
    except OverflowError:  # an integer too large for a float
        value = math.inf
    if not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, got {raw!r}")
    return value


MAX_WEIGHT = 1000.0  # objective weights beyond this only overflow the network's arithmetic


def _weight(raw: Any, what: str, info=None) -> float | Formula:
    """An objective weight: a number within ±MAX_WEIGHT, or an expression of time within it."""
    if isinstance(raw, Formula):
        return raw
    if isinstance(raw, str):
        return formula((raw,), False, timing_from(info), {"ge": -MAX_WEIGHT, "le": MAX_WEIGHT})
    value = _number(raw, what)
    if abs(value) > MAX_WEIGHT:
        raise ValueError(f"{what} must be between -{MAX_WEIGHT:g} and {MAX_WEIGHT:g}, got {value:g}")
    return value


def _keyed_weight(key: str, raw: Any, info) -> float | Formula:
    """The weight of one layer, channel or class; a problem names it in its path."""
    try:
        return _weight(raw, f"the weight of {key!r}", info)
    except ValueError as error:
        raise WithinKey(key, str(error)) from None


def _vector(raw: Any, length: int) -> tuple[float, ...]:
    if not isinstance(raw, (list, tuple)) or len(raw) != length:
        raise ValueError(f"expected a list of {length} numbers like [0, 0], got {raw!r}")
    return tuple(_number(v, "each component") for v in raw)


def _check_bounds(value: float, ge=None, gt=None, le=None) -> None:
    if ge is not None and value < ge:
        raise ValueError(f"must be at least {ge:g}, got {value:g}")
    if gt is not None and value <= gt:
        raise ValueError(f"must be greater than {gt:g}, got {value:g}")
    if le is not None and value > le:
        raise ValueError(f"must be at most {le:g}, got {value:g}")


FORMULA_SCHEMA = {"type": "string", "minLength": 1, "maxLength": 500,
                  "description": "an expression of t, frame, beat, fps and (with audio) loudness, onset, bass, "
                                 "mid and treble, e.g. '1 + 0.02 * sin(2 * pi * t)' or '1 + 0.05 * onset'"}


def _number_schema(ge=None, gt=None, le=None) -> dict:
    bounds = {"minimum": ge, "exclusiveMinimum": gt, "maximum": le}
    return {"type": "number", **{k: v for k, v in bounds.items() if v is not None}}


def keyframes_schema(value: dict) -> dict:
    """The JSON Schema of keyframes {frame: value, ..., ease: ...} over `value`'s schema."""
    return {
        "type": "object", "title": "keyframes", "minProperties": 1, "additionalProperties": False,
        "patternProperties": {MOMENT_PATTERN: value},
        "properties": {"ease": {"enum": list(EASES)}},
        "if": {"required": ["ease"]}, "then": {"minProperties": 2},  # ease alone has no keys to ease between
    }


def keyframed(*, ge=None, gt=None, le=None, vector: int = 0, formulas: bool = True):
    """A field type: a constant, keyframes {moment: value, ..., ease: smooth}, or (where `formulas`)
    an expression of time, per component for a vector (expressions.py)."""
    number_schema = _number_schema(ge, gt, le)
    if formulas:
        number_schema = {"anyOf": [number_schema, FORMULA_SCHEMA]}
    value_schema = _number_schema(ge, gt, le)
    if vector:
        value_schema = {"type": "array", "items": value_schema, "minItems": vector, "maxItems": vector}
        number_schema = {"type": "array", "items": number_schema, "minItems": vector, "maxItems": vector}
    bounds = {"ge": ge, "gt": gt, "le": le}

    def parse_formula(raw, info) -> Formula | None:
        """A Formula when `raw` holds an expression, else None."""
        components = tuple(raw) if vector and isinstance(raw, (list, tuple)) else (raw,)
        if not any(isinstance(c, str) for c in components):
            return None
        if not formulas:
            raise ValueError("this value shapes the captured dream, so it takes a constant or keyframes, "
                             f"not an expression (got {raw!r})")
        if vector and len(components) != vector:
            raise ValueError(f"expected a list of {vector} values like [0, 0], got {raw!r}")
        for c in components:
            if not isinstance(c, str):
                _number(c, "each component")
        return formula(components, bool(vector), timing_from(info), bounds)

    def parse_value(raw):
        value = _vector(raw, vector) if vector else _number(raw, "the value")
        for component in value if vector else (value,):
            _check_bounds(component, ge=ge, gt=gt, le=le)
        return value

    def parse(raw, info):
        if isinstance(raw, (Track, Formula)):
            return raw
        if not isinstance(raw, dict):
            return parse_formula(raw, info) or Track.constant(parse_value(raw))
        timing = timing_from(info)
        ease = "linear"
        points, landed = {}, []
        for key, value in raw.items():
            if key == "ease":
                if value not in EASES:
                    raise ValueError(f"ease must be one of {', '.join(EASES)}, got {value!r}")
                ease = value
                continue
            try:
                frame = timing.frame(key)
            except ValueError as error:
                raise ValueError(f"keyframe key: {error}; write keyframes as {{0: 1.0, 150: 1.05}} or "
                                 "{0s: 1.0, 5s: 1.05}") from None
            if frame in points:
                raise ValueError(f"keyframe {key!r} lands on frame {frame}, as another key does")
            try:
                points[frame] = parse_value(value)
            except ValueError as error:
                raise ValueError(f"keyframe {key}: {error}") from None
            if not (isinstance(key, int) or str(key).strip().isdigit()):
                landed.append((str(key), frame))
        if not points:
            raise ValueError("keyframes need at least one {frame: value} entry")
        return Track(tuple(sorted(points.items())), ease, tuple(landed))

    schema = {"anyOf": [number_schema if formulas else value_schema, keyframes_schema(value_schema)]}
    return Annotated[Track | Formula, BeforeValidator(parse), PlainSerializer(lambda value: value.plain()),
                     WithJsonSchema(schema)]


def _parse_layers(raw: Any, info) -> dict[str, float | Formula]:
    """'circles' | ['mixed_3', 'mixed_4'] | {'mixed_3': 0.7, 'parts': 0.3}."""
    hint = "layers takes a name ('circles'), a list of names, or {name: weight}"
    if isinstance(raw, str):
        return {raw: 1.0}
    if isinstance(raw, list) and raw and all(isinstance(n, str) for n in raw):
        return {name: 1.0 for name in raw}
    if isinstance(raw, dict) and raw:
        weights = {}
        for name, weight in raw.items():
            if not isinstance(name, str):
                raise ValueError(f"{hint}; {name!r} is not a name")
            weights[name] = _keyed_weight(name, weight, info)
        if not any(isinstance(w, Formula) or w for w in weights.values()):
            raise ValueError("at least one layer weight must be non-zero")
        return weights
    raise ValueError(f"{hint}, got {raw!r}")


def _parse_channels(raw: Any, info) -> dict[str, float | Formula]:
    """{'mixed_4': [12, 40]} or {'mixed_4:12': 1.0} -> {'mixed_4:12': 1.0, ...}."""
    hint = "channels takes {layer: [channel, ...]} or {'layer:channel': weight}"
    if not isinstance(raw, dict) or not raw:
        raise ValueError(f"{hint}, got {raw!r}")
    weights = {}
    for key, value in raw.items():
        if isinstance(value, list):
            if not value or not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in value):
                raise ValueError(f"{hint}; {key}: expected channel numbers like [12, 40]")
            weights.update({f"{key}:{channel}": 1.0 for channel in value})
        elif isinstance(key, str) and re.fullmatch(r"[^:]+:\d+", key):
            weights[key] = _keyed_weight(key, value, info)
        else:
            raise ValueError(f"{hint}; got {key!r}: {value!r}")
    return weights


def _parse_classes(raw: Any, info) -> dict[str, float | Formula]:
    """'tabby' | 281 | ['tabby', 'daisy'] | {'tabby': 1.0} -> {'tabby': 1.0}."""
    if isinstance(raw, (str, int)) and not isinstance(raw, bool):
        return {str(raw): 1.0}
    if isinstance(raw, list) and raw and all(isinstance(c, (str, int)) for c in raw):
        return {str(c): 1.0 for c in raw}
    if isinstance(raw, dict) and raw:
        return {str(k): _keyed_weight(k, v, info) for k, v in raw.items()}
    raise ValueError(f"class takes an ImageNet class name or number, a list, or {{class: weight}}, got {raw!r}")


_WEIGHT = {"anyOf": [_number_schema(-MAX_WEIGHT, None, MAX_WEIGHT), FORMULA_SCHEMA]}
_NAMES = {"type": "array", "items": {"type": "string"}, "minItems": 1}
_CLASS = {"anyOf": [{"type": "string"}, {"type": "integer", "minimum": 0, "maximum": 999}]}

Duration = Annotated[float, BeforeValidator(parse_duration), WithJsonSchema({"anyOf": [
    {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_SECONDS},
    {"type": "string", "pattern": DURATION.pattern, "examples": ["10s", "1m30s"]},
]})]
def _plain_weights(weights: dict) -> dict:
    return {key: value.plain() if isinstance(value, Formula) else value for key, value in weights.items()}


LayerWeights = Annotated[dict[str, Any], BeforeValidator(_parse_layers), PlainSerializer(_plain_weights),
                         WithJsonSchema({"anyOf": [
    {"type": "string"}, _NAMES, {"type": "object", "additionalProperties": _WEIGHT, "minProperties": 1},
]})]
ChannelWeights = Annotated[dict[str, Any], BeforeValidator(_parse_channels), PlainSerializer(_plain_weights),
                          WithJsonSchema({
    "type": "object", "minProperties": 1,
    "patternProperties": {r"^[^:]+:[0-9]+$": _WEIGHT},
    "additionalProperties": {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 1},
})]
ClassWeights = Annotated[dict[str, Any], BeforeValidator(_parse_classes), PlainSerializer(_plain_weights),
                        WithJsonSchema({"anyOf": [
    _CLASS, {"type": "array", "items": _CLASS, "minItems": 1},
    {"type": "object", "additionalProperties": _WEIGHT, "minProperties": 1},
]})]

# Numbers and switches as written: no "30" for 30, no true for 1, no 1 for true (YAML's `yes` is true).
Int = Annotated[int, Strict()]
Number = Annotated[float, Strict()]
Flag = Annotated[bool, Strict()]
Weight = Annotated[Any, BeforeValidator(lambda raw, info: _weight(raw, "the weight", info)),
                   PlainSerializer(lambda value: value.plain() if isinstance(value, Formula) else value),
                   WithJsonSchema(_WEIGHT)]
